"""Reading a paged API list to its end, as a client does: `limit` at a time, each page's `next` passed as `after`."""

from __future__ import annotations

from typing import Any

import httpx


def every_page(client: httpx.Client, path: str, member: str, **params: Any) -> list[list[str]]:
    """The ids on each page of `path`'s list `member`, following `next` (and its `Link` header) to the last page."""
    pages: list[list[str]] = []
    after = None
    while True:
        answer = client.get(path, params=params | ({"after": after} if after else {}))
        assert answer.status_code == 200, answer.text
        pages.append([item["id"] for item in answer.json()[member]])
        after = answer.json()["next"]
        if after is None:
            assert "link" not in answer.headers
            return pages
        assert answer.headers["link"].endswith('>; rel="next"'), answer.headers


def assert_cursor_refused(client: httpx.Client, path: str, cursor: str) -> None:
    """A cursor changed by one character, cut, or invented is a 422 problem naming the cursor, as is a bad limit."""
    payload, tag = cursor.split(".")
    for after in (("A" if payload[0] != "A" else "B") + payload[1:] + "." + tag, payload, "x.y"):
        refused = client.get(path, params={"after": after})
        assert refused.status_code == 422, after
        assert refused.json()["type"] == "urn:accord:problem:invalid-cursor"
    for limit in (0, 100_000, "ten"):
        assert client.get(path, params={"limit": limit}).status_code == 422, limit
