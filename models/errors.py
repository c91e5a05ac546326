"""Model registry errors.

HotlineError
└── ModelError                       (model_error)
    ├── ModelMissing                 package not installed / file absent (model_missing)
    ├── ModelHashMismatch            a file's sha256 differs from the pin (model_hash_mismatch)
    └── ModelIncompatible            a trained head's metadata does not match (model_incompatible)
"""

from core.errors import HotlineError


class ModelError(HotlineError):
    code = "model_error"


class ModelMissing(ModelError):
    code = "model_missing"


class ModelHashMismatch(ModelError):
    code = "model_hash_mismatch"


class ModelIncompatible(ModelError):
    code = "model_incompatible"
