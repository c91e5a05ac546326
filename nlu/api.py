"""Rasa-compatible HTTP: ``POST /model/parse`` ({"text"} -> intent, ranking, entities, emotion).

``build_router(engine_provider)`` takes a zero-argument callable returning the current
:class:`~nlu.engine.NluEngine` (or None while none is trained), so a retrain can swap engines
without touching the router, and a failed retrain leaves the old one serving. Auth is the
caller's: pass ``dependencies=[Depends(require_roles(...))]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, params
from pydantic import BaseModel, Field

from nlu.engine import MAX_CHARS
from nlu.errors import NluInputError


class ParseRequest(BaseModel):
    text: str = Field(max_length=MAX_CHARS, description="The user's utterance")
    message_id: str | None = None
    language: str | None = Field(default=None, pattern="^(en|zh)$")


class IntentPublic(BaseModel):
    name: str
    confidence: float


class EntityPublic(BaseModel):
    entity: str
    value: Any
    start: int
    end: int
    extractor: str
    confidence: float | None = None


class ParsePublic(BaseModel):
    text: str
    intent: IntentPublic
    entities: list[EntityPublic]
    intent_ranking: list[IntentPublic]
    emotion: dict[str, Any] | None = None
    language: str


def build_router(
    engine_provider: Callable[[], Any],
    *,
    prefix: str = "",
    dependencies: Sequence[params.Depends] = (),
) -> APIRouter:
    """Router with ``POST {prefix}/model/parse``; mount under "" for Rasa clients."""
    router = APIRouter(prefix=prefix, tags=["nlu"], dependencies=list(dependencies))

    @router.post("/model/parse", response_model=ParsePublic, operation_id="nlu-parse")
    async def parse(body: ParseRequest) -> dict[str, Any]:
        engine = engine_provider()
        if engine is None:
            raise HTTPException(
                status_code=503, detail={"code": "nlu_not_ready", "message": "no NLU model loaded"}
            )
        try:
            result = await engine.aparse(body.text, language=body.language)
        except NluInputError as e:
            raise HTTPException(
                status_code=422, detail={"code": e.code, "message": e.message}
            ) from e
        return result.to_rasa_dict()

    return router
