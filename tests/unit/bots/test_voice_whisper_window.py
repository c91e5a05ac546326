import pytest

from bots.whisper_window import ShortWindowWhisper


class _Engine:  # only what window_s needs
    capabilities = None


@pytest.mark.parametrize(
    ("duration_s", "window_s"),
    [(0.5, 8.0), (3.0, 8.0), (4.2, 9.0), (12.0, 16.0), (26.0, 30.0), (40.0, 30.0)],
)
def test_window_covers_the_turn_with_margin_within_whispers_limits(duration_s, window_s) -> None:
    assert ShortWindowWhisper(_Engine()).window_s(duration_s) == window_s  # type: ignore[arg-type]
