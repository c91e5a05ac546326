import wave

import numpy as np

from bots.recording import write_stereo_wav


def test_stereo_wav_puts_caller_left_and_bot_right(tmp_path) -> None:
    caller = (np.ones(1600) * 1000).astype("<i2").tobytes()
    bot = (np.ones(800) * -2000).astype("<i2").tobytes()
    path = tmp_path / "rec" / "c1.wav"
    write_stereo_wav(path, caller, bot, sample_rate_hz=16_000)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 16_000, 2)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert frames.shape == (1600, 2)
    assert (frames[:, 0] == 1000).all()
    assert (frames[:800, 1] == -2000).all() and (frames[800:, 1] == 0).all()
    assert not list(tmp_path.glob("rec/*.part"))
