"""Back-channel words: "uh-huh", "嗯", "ok" said over the bot must not stop it (issue 4)."""

from __future__ import annotations

import re

BACKCHANNELS_EN = frozenset(
    {
        "uh huh", "uh-huh", "uhhuh", "mm hmm", "mm-hmm", "mhm", "mm", "hmm", "um", "uh",
        "ok", "okay", "yeah", "yes", "yep", "right", "sure", "alright", "all right", "i see",
        "got it", "ah", "oh", "aha", "yeah yeah", "ok ok", "okay okay", "mm-hm", "uh-hum",
    }
)  # fmt: skip
BACKCHANNELS_ZH = frozenset(
    {"嗯", "嗯嗯", "对", "对对", "好", "好的", "是", "是的", "哦", "噢", "啊", "行"}
)
# single listener words: any run of them ("oh uh-huh", "yeah okay yeah") is still a back-channel
_LISTENER_WORDS_EN = frozenset(
    {"uh", "huh", "uh-huh", "uhhuh", "mm", "mmm", "hmm", "mhm", "mm-hmm", "mm-hm", "um", "ah",
     "oh", "aha", "ok", "okay", "yeah", "yes", "yep", "right", "sure", "alright"}
)  # fmt: skip
_STRIP = re.compile(r"[\s.,!?;:。，！？、…~\-]+")


def is_backchannel(text: str) -> bool:
    """True for an empty or listener-only utterance (no request the bot should answer)."""
    t = text.strip().lower()
    if not _STRIP.sub("", t):
        return True
    words = re.sub(r"[.,!?;:。，！？、…~]+", " ", t).split()
    if " ".join(words) in BACKCHANNELS_EN or all(w in _LISTENER_WORDS_EN for w in words):
        return True
    return _STRIP.sub("", t) in BACKCHANNELS_ZH
