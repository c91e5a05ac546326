"""POST /model/parse: Rasa shape, bad input, not-ready."""

import httpx
import pytest
from fastapi import FastAPI

from nlu.api import build_router


def client(provider):
    app = FastAPI()
    app.include_router(build_router(provider))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_parse_returns_rasa_shape(engine):
    async with client(lambda: engine) as c:
        r = await c.post("/model/parse", json={"text": "there's a charge of $40 I don't recognise"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"text", "intent", "entities", "intent_ranking", "emotion"}
    assert body["intent"]["name"] == "dispute_charge"
    assert body["entities"][0] | {"extractor": "x"} == {
        "entity": "amount",
        "value": "40.00 USD",
        "start": 20,
        "end": 23,
        "extractor": "x",
        "confidence": 1.0,
    }


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"text": ""}, 422),
        ({"text": "\x00\x00"}, 422),
        ({"text": "x" * 6000}, 422),
        ({}, 422),
        ({"text": "hi", "language": "fr"}, 422),
    ],
)
async def test_bad_input(engine, payload, status):
    async with client(lambda: engine) as c:
        r = await c.post("/model/parse", json=payload)
    assert r.status_code == status


async def test_not_ready_is_503():
    async with client(lambda: None) as c:
        r = await c.post("/model/parse", json={"text": "hello"})
    assert r.status_code == 503
    assert r.json()["detail"]["code"] == "nlu_not_ready"
