"""QA errors.

    HotlineError
    └── QaError                        (qa_error)
        ├── ScorecardError             a scorecard file is invalid (scorecard_* codes below)
        │     codes: scorecard_yaml, scorecard_schema, scorecard_weights,
        │            scorecard_missing_check, scorecard_unknown_check_type,
        │            scorecard_duplicate_id, scorecard_regex
        └── TranscriptError            a call/transcript cannot be scored (transcript_* codes)
              codes: transcript_json, transcript_schema, transcript_no_agent,
                     transcript_timestamps, transcript_language, transcript_empty

Every error names where it came from (file and item, or call and turn) so an admin can fix
the YAML or the input without reading code.
"""

from __future__ import annotations

from core.errors import HotlineError


class QaError(HotlineError):
    code = "qa_error"


class ScorecardError(QaError):
    """A scorecard failed to load; ``source`` is the file and ``item`` the offending entry."""

    code = "scorecard_invalid"

    def __init__(self, message: str, *, code: str, source: str = "<scorecard>", item: str = ""):
        where = f"{source}: {item}: " if item else f"{source}: "
        super().__init__(where + message, code=code)
        self.source = source
        self.item = item


class TranscriptError(QaError):
    """A call cannot be scored: bad JSON, no agent turns, broken timestamps, unknown language."""

    code = "transcript_invalid"

    def __init__(self, message: str, *, code: str, call_id: str = ""):
        super().__init__(f"{call_id}: {message}" if call_id else message, code=code)
        self.call_id = call_id
