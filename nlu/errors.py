"""NLU errors.

    HotlineError
    └── NluError                          (nlu_error)
        ├── NluDataError                  bad training data; names file and line (nlu_data_invalid)
        ├── NluInputError                 text refused at parse time (nlu_input_invalid)
        ├── NluTrainingError              refused or failed; old model kept (nlu_training_failed)
        └── NluModelError                 embedder / head cannot be loaded (nlu_model_error)

A head whose metadata does not match is refused with ``models.errors.ModelIncompatible``.
"""

from __future__ import annotations

from core.errors import HotlineError


class NluError(HotlineError):
    code = "nlu_error"


class NluDataError(NluError):
    """Training data is malformed; ``file`` and ``line`` say where (line is 1-based)."""

    code = "nlu_data_invalid"

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)
        self.file = file
        self.line = line


class NluInputError(NluError):
    code = "nlu_input_invalid"


class NluTrainingError(NluError):
    code = "nlu_training_failed"


class NluModelError(NluError):
    code = "nlu_model_error"
