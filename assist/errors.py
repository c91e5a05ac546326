"""Errors raised by the assist package.

HotlineError
└── AssistError                 anything assist refuses to do         (assist_error)
    ├── ArticleInvalid          a KB article file is malformed        (article_invalid)
    ├── KnowledgeIndexInvalid   a persisted index cannot be used      (kb_index_invalid)
    └── AssistConfigInvalid     compliance/scripts YAML is malformed  (assist_config_invalid)
"""

from __future__ import annotations

from core.errors import HotlineError


class AssistError(HotlineError):
    code = "assist_error"


class ArticleInvalid(AssistError):
    code = "article_invalid"


class KnowledgeIndexInvalid(AssistError):
    code = "kb_index_invalid"


class AssistConfigInvalid(AssistError):
    code = "assist_config_invalid"
