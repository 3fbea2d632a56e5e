"""The API's OpenAPI document beyond what the routes' models say: the RFC 9457 problems each route can answer (declared
here once, named by every router) and the bodies that are not JSON (files, attachments, compact JWS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.constants import REF_TEMPLATE
from pydantic import BaseModel

from accord.http.problems import PROBLEM_MEDIA_TYPE, Problem

Responses = dict[int | str, dict[str, Any]]

# What each status means on this node, whichever route answers it.
_MEANING = {
    400: "The body is not well formed (not JSON, not a compact JWS)",
    401: "Not authenticated: no valid bearer token (POST /api/v1/token), or not signed by the pinned peer",
    403: "Not permitted: the caller's role or need to know does not allow it",
    404: "No such resource, or none the caller may see",
    409: "The request conflicts with the current state (decided, amended or changed already)",
    413: "The body is larger than this endpoint accepts",
    415: "The body's media type is not one this endpoint takes",
    422: "The request is not valid: a parameter or the body breaks its schema or a rule of the agreement",
    429: "Too many: failed sign-ins, or hit/no-hit queries past the limit; wait as long as Retry-After says",
    503: "The node cannot take this now (busy, or the peer is unreachable): try again later",
}
_RETRY_AFTER = {"description": "seconds to wait (RFC 9110 §10.2.3)", "schema": {"type": "integer", "minimum": 0}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "the scheme to authenticate with (RFC 9110 §11.6.1)",
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": _RETRY_AFTER},
    503: {"Retry-After": _RETRY_AFTER},
}
PROBLEM_SCHEMA = {"$ref": REF_TEMPLATE.format(model=Problem.__name__)}


def problems(*statuses: int) -> Responses:
    """The problem+json answers of a route, for its `responses`: e.g. `problems(401, 403, 404, 422)`."""
    declared: Responses = {}
    for status in statuses:
        answer: dict[str, Any] = {
            "description": _MEANING[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        if status in _HEADERS:
            answer["headers"] = _HEADERS[status]
        declared[status] = answer
    return declared


# An officer's route: 401 without a valid token, 422 for a parameter or body that does not validate; with a JSON body,
# 400 for one that is not text (its bytes are not UTF-8).
OFFICER_PROBLEMS = (401, 422)
BODY_PROBLEMS = (400, *OFFICER_PROBLEMS)


def next_link_response() -> Responses:
    """The 200 answer's `Link` header of a paged list (accord.http.cursors)."""
    link = {
        "description": 'RFC 8288: the next page, rel="next" (the same request with `after` set); absent on the last',
        "schema": {"type": "string"},
    }
    return {200: {"headers": {"Link": link}}}


def files(description: str, content: dict[str, dict[str, Any]], model: type[BaseModel] | None = None) -> Responses:
    """The 200 answer of a route that writes its own body (a file, a report) in the media types of `content`; with
    `model`, the JSON one is that model."""
    answer: dict[str, Any] = {"description": description, "content": content}
    if model is not None:
        answer["model"] = model
    return {200: answer}


def request_body(content: dict[str, dict[str, Any]], description: str) -> dict[str, Any]:
    """An `openapi_extra` declaring a required body the route reads itself (not parsed into a model by FastAPI)."""
    return {"requestBody": {"required": True, "description": description, "content": content}}


# Marks a string whose values are this node's data (e.g. the agreement's focus areas), not fixed in the code: the
# document lists them as the node has them.
VOCABULARY = "x-accord-vocabulary"


def vocabulary(name: str) -> dict[str, Any]:
    """`json_schema_extra` for a value that is one of the node's vocabulary `name` (see `document_api`)."""
    return {VOCABULARY: name}


def document_api(app: FastAPI, vocabularies: Mapping[str, Sequence[str]]) -> None:
    """Complete the document FastAPI generates: the `Problem` schema in its components, where every route's problem
    answers point, and the values of each vocabulary where a parameter or a member is marked with it."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization")
            schemas.update(problem.pop("$defs", {}))
            schemas[Problem.__name__] = problem
            _list_vocabularies(document, vocabularies)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the document it generates


def _list_vocabularies(node: Any, vocabularies: Mapping[str, Sequence[str]]) -> None:
    if isinstance(node, list):
        for item in node:
            _list_vocabularies(item, vocabularies)
        return
    if not isinstance(node, dict):
        return
    name = node.get(VOCABULARY)
    if name is not None:
        values = list(vocabularies[name])
        strings = [branch for branch in node.get("anyOf", ()) if branch.get("type") == "string"]
        for target in strings or [node]:  # an optional value: its string branch (null stays allowed)
            target["enum"] = values
    for value in node.values():
        _list_vocabularies(value, vocabularies)
