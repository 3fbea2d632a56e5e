"""Every request gets an id of its own: in the `X-Request-Id` header of its answer, in its problem body and on every
log line written for it, so that a caller told no more than "refused" can quote it to the node's operator."""

from __future__ import annotations

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uuid6 import uuid7

from accord.http.problems import unexpected_error_response
from accord.logs import request_scope

REQUEST_ID_HEADER = "X-Request-Id"

log = structlog.get_logger("accord.http")


class RequestIds:
    """Pure ASGI, the outermost layer of the application, so that every answer carries the id (an error page, a
    refusal made before the body is read, a crash). The id is always made here: one a caller sends is not trusted
    into the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid7())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with request_scope(request_id):
            scope.setdefault("state", {})["request_id"] = request_id
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # What a bug raised goes to the log, with the id; the caller gets the id and nothing of the bug.
                log.exception("request failed", method=scope.get("method"), path=scope.get("path"))
                if started:
                    raise
                response = unexpected_error_response(scope.get("path", ""), request_id)
                await response(scope, receive, send_with_id)
