"""Web sessions over plain HTTP against a real node: cookie flags, secure headers, CSRF on every form post,
sign-in form protection, idle timeout, sign-out, and errors shown as pages rather than JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from accord.exchange.transport import tls_context
from accord.store.tables import events, refusal_counts
from accord.web.install import ui_routes as web_routes
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, running_pair

IDLE_S = 30 * 60


@pytest.fixture(scope="module")
def canada(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """The web layer is the same on both stores (sessions are the API's token table, tested on both): SQLite only.
    Its clock runs ahead when a test says so, so that a session idles out without the test waiting."""
    root = tmp_path_factory.mktemp("web")
    env = {"ACCORD_WEB_IDLE_TIMEOUT_S": str(IDLE_S)}
    with running_pair(templates, DatabaseFactory("sqlite", root), root, env=env, offset_clock=True) as (ca, _):
        yield ca


def sign_in(node: RunningNode, username: str, password: str = PASSWORD) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=node.url, timeout=30.0, follow_redirects=False, verify=tls_context())
    form = client.get("/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/signin", data={"username": username, "password": password, "signin_token": token[1], "next": "/outbox"}
    )
    return client, response


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page.text)
    assert found is not None
    return found[1]


def test_sessions_are_http_only_strict_cookies_and_pages_carry_secure_headers(canada: RunningNode) -> None:
    client, response = sign_in(canada, "ca.rcmp")
    assert response.status_code == 303 and response.headers["location"] == "/outbox"
    cookie = response.headers["set-cookie"]
    assert "accord_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/outbox")
    assert page.status_code == 200 and "Outbox" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline for the CSP to allow
    # The API keeps its JSON problems; the UI shows pages.
    assert client.get("/api/v1/me").status_code == 401
    missing = client.get("/messages/01a20000-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


def test_a_wrong_password_or_a_forged_sign_in_form_is_refused_and_counted_not_ledgered(canada: RunningNode) -> None:
    def counted() -> tuple[int, int]:
        with canada.engine.connect() as conn:
            leaves = conn.execute(select(func.count()).where(events.c.type.like("officer.sign_in%"))).scalar_one()
            refusals = conn.execute(
                select(func.coalesce(func.sum(refusal_counts.c.refusals), 0)).where(
                    refusal_counts.c.endpoint == "/signin", refusal_counts.c.problem == "authentication-failed"
                )
            ).scalar_one()
        return int(leaves), int(refusals)

    leaves, refusals = counted()
    _, wrong = sign_in(canada, "ca.rcmp", "not-the-password")
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    assert "accord_session" not in wrong.headers.get("set-cookie", "")
    assert counted() == (leaves, refusals + 1)
    forged = httpx.post(canada.url + "/signin", data={"username": "ca.rcmp", "password": PASSWORD})
    assert forged.status_code in (403, 422)


def ui_routes() -> list[tuple[str, str]]:
    """Every page and form route the web UI serves, with a concrete path."""
    concrete = {
        "{message_id}": "01a20000-0000-7000-8000-000000000000",
        "{case_id}": "x",
        "{proposal_id}": "x",
        "{verdict}": "accept",
        "{follow_up}": "alert",
    }
    found = []
    for route in web_routes():
        path = route.path
        for name, value in concrete.items():
            path = path.replace(name, value)
        found += [(method, path) for method in sorted(route.methods)]
    return found


def test_every_page_needs_a_session_and_every_form_post_the_csrf_token(canada: RunningNode) -> None:
    anonymous = httpx.Client(base_url=canada.url, timeout=30.0, follow_redirects=False)
    client, _ = sign_in(canada, "ca.rcmp")
    token = csrf_of(client.get("/compose"))
    body = {
        "recipient_agency": "NCB",
        "focus_area": "drugs",
        "classification": "Protected B",
        "title": "t",
        "body": "b",
    }
    routes = ui_routes()
    assert len(routes) >= 20
    for method, path in routes:
        if path in ("/", "/signin", "/language"):  # open to a browser not signed in (the sign-in page's switch)
            continue
        response = anonymous.request(method, path, data=body if method == "POST" else None)
        if method == "GET":
            assert response.status_code == 303 and response.headers["location"].startswith("/signin"), path
        else:
            assert response.status_code in (303, 403), (method, path)
    for method, path in routes:
        if method != "POST" or path == "/signin":
            continue
        refused = client.post(path, data=body)
        assert refused.status_code == 403, path
        assert "security token" in refused.text, path
    wrong = client.post("/compose/check", data=body | {"csrf": "0" * 64})
    assert wrong.status_code == 403
    checked = client.post("/compose/check", data=body, headers={"X-CSRF-Token": token})
    assert checked.status_code == 200 and "decision" in checked.text


def test_an_idle_session_ends_and_sign_out_revokes_it(canada: RunningNode) -> None:
    client, _ = sign_in(canada, "ca.rcmp")
    for _ in range(3):  # activity keeps it alive past the idle time
        assert client.get("/inbox").status_code == 200
        canada.run_clock_ahead(IDLE_S * 0.6)
    assert client.get("/inbox").status_code == 200
    canada.run_clock_ahead(IDLE_S + 1)
    expired = client.get("/inbox")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/signin?next=/inbox")
    live = client.get("/inbox/rows", headers={"HX-Request": "true"})
    assert live.headers.get("hx-redirect", "").startswith("/signin")

    client, _ = sign_in(canada, "ca.rcmp")
    token = csrf_of(client.get("/inbox"))
    old = client.cookies.get("accord_session")
    assert client.post("/signout", data={"csrf": token}).status_code == 303
    assert client.cookies.get("accord_session") is None
    for cookie in (old, "forged"):
        stale = httpx.get(canada.url + "/inbox", cookies={"accord_session": cookie or ""}, follow_redirects=False)
        assert stale.status_code == 303 and stale.headers["location"].startswith("/signin")
