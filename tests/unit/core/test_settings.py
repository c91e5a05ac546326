from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import load_settings


def test_env_prefix_and_nested(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_PORT", "9001")
    monkeypatch.setenv("HOTLINE_ASR__BEAM_SIZE", "3")
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert s.port == 9001
    assert s.asr.beam_size == 3
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/hotline.db"


def test_yaml_file_is_lowest_priority(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "hotline.yaml"
    cfg.write_text("port: 7000\nbus_url: redis://127.0.0.1:6379/0\nasr:\n  beam_size: 2\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(cfg))
    monkeypatch.setenv("HOTLINE_PORT", "7100")
    s = load_settings()
    assert (s.port, s.bus_url, s.asr.beam_size) == (7100, "redis://127.0.0.1:6379/0", 2)


def test_malformed_yaml_names_file_and_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("port: 7000\nasr: [unclosed\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"bad\.yaml line \d+: invalid YAML"):
        load_settings()


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_PORT", "99999")
    with pytest.raises(ConfigError, match=r"setting port \(env HOTLINE_PORT\)"):
        load_settings()


def test_unknown_bus_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_BUS_URL", "kafka://x")
    with pytest.raises(ConfigError, match="bus_url"):
        load_settings()


def test_prod_refuses_dev_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENV", "prod")
    with pytest.raises(ConfigError, match="secret_key"):
        load_settings()
