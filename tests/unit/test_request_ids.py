"""The request id layer on a small application of its own: every answer carries an id, and a request that fails on a
bug is answered with the id and nothing of the bug, which goes to the log under that id."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from accord.http.request_ids import REQUEST_ID_HEADER, RequestIds
from accord.logs import current_request


async def fine(request: Request) -> PlainTextResponse:
    scope = current_request()
    assert scope is not None
    return PlainTextResponse(scope.request_id)


async def broken(request: Request) -> PlainTextResponse:
    raise RuntimeError("the secret internals of the bug")


APP = Starlette(routes=[Route("/fine", fine), Route("/broken", broken)], middleware=[Middleware(RequestIds)])


def get(*paths: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://node") as client:
            return [await client.get(path) for path in paths]

    return asyncio.run(run())


def test_every_answer_carries_the_id_its_request_had_inside() -> None:
    first, second = get("/fine", "/fine")
    assert first.text == first.headers[REQUEST_ID_HEADER]
    assert second.text == second.headers[REQUEST_ID_HEADER] != first.text


def test_a_request_that_fails_on_a_bug_gets_the_id_and_nothing_of_the_bug() -> None:
    with capture_logs() as logs:
        [answer] = get("/broken")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    request_id = answer.headers[REQUEST_ID_HEADER]
    assert body["request_id"] == request_id and request_id in body["detail"]
    assert "secret internals" not in answer.text and "RuntimeError" not in answer.text
    [failed] = [line for line in logs if line["event"] == "request failed"]
    assert failed["path"] == "/broken" and failed["exc_info"] is True
