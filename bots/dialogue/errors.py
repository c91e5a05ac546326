"""Errors of the dialogue engine.

HotlineError
└── BotError (bots.errors)
    └── DialogueError                (dialogue_error)
        ├── FlowFormatError          (flow_invalid: a flow/response file is malformed;
        │                             the message names file, flow and step)
        ├── NotVerifiedError         (not_verified: account data asked for before verification)
        └── ActionError              (action_failed: a built-in or webhook action failed)
"""

from __future__ import annotations

from bots.errors import BotError


class DialogueError(BotError):
    code = "dialogue_error"


class FlowFormatError(DialogueError):
    code = "flow_invalid"

    def __init__(self, message: str, *, path: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class NotVerifiedError(DialogueError):
    code = "not_verified"


class ActionError(DialogueError):
    code = "action_failed"
    recoverable = True
