"""End to end between two real node processes: send, deliver with receipt, read receipt, answer; then search the
mail on both sides (French, Hindi and Punjabi words, need-to-know on every hit, highlights, pages), on each store.
One pair per store for the module: the first test needs India's NCB inbox empty, so it runs first."""

from __future__ import annotations

import html
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.exchange.retention import purge_expired
from accord.store.search import message_words
from accord.store.tables import message_search, messages
from tests.integration.nodes import RunningNode, draft, open_local, wait_for
from tests.integration.pages import every_page
from tests.integration.test_web_sessions import sign_in


def test_request_is_delivered_read_and_answered_in_the_same_case(shared_pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        sent = rcmp.post("/api/v1/messages", json=draft(priority="urgent"))
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]
        assert sent.json()["deadline"] is not None

        def delivered() -> bool:
            return bool(rcmp.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"] == "delivered")

        wait_for(delivered)
        inbox = ncb.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]
        assert [m["id"] for m in inbox] == [message_id]
        assert inbox[0]["delivery"]["state"] == "received"

        opened = ncb.get(f"/api/v1/messages/{message_id}").json()
        assert opened["body"].startswith("Please confirm")
        assert opened["handling"]["level"] == "restricted"
        wait_for(lambda: rcmp.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"] == "read")

        answer = ncb.post(
            f"/api/v1/messages/{message_id}/reply",
            json={"handling": {"classification": "Restricted"}, "title": "Re: consignee", "body": "Licence valid."},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["case_id"] == sent.json()["case_id"]
        answer_id = answer.json()["id"]
        wait_for(
            lambda: any(
                m["id"] == answer_id for m in rcmp.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"]
            )
        )
        thread = rcmp.get(f"/api/v1/cases/{sent.json()['case_id']}").json()["messages"]
        assert [m["id"] for m in thread] == [message_id, answer_id]
        assert thread[0]["delivery"]["answered_at"] is not None


def test_an_answer_inherits_the_title_and_handling_and_may_be_stricter_but_never_weaker(
    shared_pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        sent = rcmp.post("/api/v1/messages", json=draft(title="Re-export of a consignment"))
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]
        wait_for(lambda: ncb.get(f"/api/v1/messages/{message_id}").status_code == 200)

        def outbox() -> list[str]:
            return [m["id"] for m in ncb.get("/api/v1/messages", params={"box": "outbox"}).json()["messages"]]

        before = outbox()
        for weaker in ({"classification": "Unclassified"}, {"classification": "Restricted", "tlp": "GREEN"}):
            refused = ncb.post(f"/api/v1/messages/{message_id}/reply", json={"handling": weaker, "body": "No."})
            assert refused.status_code == 422, refused.text
            assert refused.json()["type"] == "urn:accord:problem:handling-weakened"
        assert outbox() == before  # nothing refused was stored

        inherited = ncb.post(f"/api/v1/messages/{message_id}/reply", json={"body": "Licence valid."})
        assert inherited.status_code == 201, inherited.text
        answer = ncb.get(f"/api/v1/messages/{inherited.json()['id']}").json()
        assert answer["title"] == "Re: Re-export of a consignment"
        assert answer["handling"]["classification"] == "Restricted"  # Protected B's level in India's scheme
        assert (answer["handling"]["tlp"], answer["handling"]["caveats"]) == ("AMBER", ["H0", "H2"])

        # A handling that gives only the marking keeps the TLP of the message answered (not the draft's default).
        strict = {"classification": "Protected B", "tlp": "AMBER+STRICT"}
        second = rcmp.post("/api/v1/messages", json=draft(title="Second consignment", handling=strict)).json()["id"]
        wait_for(lambda: ncb.get(f"/api/v1/messages/{second}").status_code == 200)
        marking_only = ncb.post(
            f"/api/v1/messages/{second}/reply", json={"handling": {"classification": "Confidential"}, "body": "."}
        )
        assert marking_only.status_code == 201, marking_only.text
        kept = ncb.get(f"/api/v1/messages/{marking_only.json()['id']}").json()["handling"]
        assert (kept["level"], kept["tlp"]) == ("confidential", "AMBER+STRICT")

        stricter = ncb.post(
            f"/api/v1/messages/{message_id}/reply",
            json={
                "handling": {"classification": "Confidential", "tlp": "AMBER+STRICT"},
                "title": "Addendum",
                "body": ".",
            },
        )
        assert stricter.status_code == 201, stricter.text
        handling = ncb.get(f"/api/v1/messages/{stricter.json()['id']}").json()["handling"]
        assert (handling["level"], handling["tlp"], handling["caveats"]) == (
            "confidential",
            "AMBER+STRICT",
            ["H0", "H2"],
        )


# ---- search

FRENCH = "L’anhydride acétique, précurseur de l’héroïne, était caché dans des fûts à double fond."
HINDI = "एसिटिक एनहाइड्राइड की खेप पंजाब सीमा पर रोकी गई। ਪੰਜਾਬ ਪੁਲਿਸ ਨੇ ਐਸੀਟਿਕ ਐਨਹਾਈਡ੍ਰਾਈਡ ਜ਼ਬਤ ਕੀਤਾ।"
XSS_TITLE = "<script>alert('x')</script> anhydride à Surrey"


@pytest.fixture(scope="module")
def mail(shared_pair: tuple[RunningNode, RunningNode]) -> dict[str, dict[str, Any]]:
    """Canada's RCMP writes to India's NCB in French, in Hindi and Punjabi, under a title that is markup, at Secret,
    and at TLP:RED for one named officer; every one delivered. By name: what POST /api/v1/messages answered."""
    ca, _ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        uploaded = rcmp.post("/api/v1/attachments", content=b"fut 1..12", headers={"Content-Type": "text/plain"})
        attachment = {"sha256": uploaded.json()["sha256"], "name": "inventaire-entrepôt.txt"}
        drafts = {
            "french": draft(title="Saisie à Montréal", body=FRENCH, attachments=[attachment]),
            "hindi": draft(title="एसिटिक एनहाइड्राइड की खेप", body=HINDI),
            "markup": draft(title=XSS_TITLE, body="Routine.", priority="urgent"),
            "secret": draft(
                title="Fournisseur", body="Le fournisseur d’anhydride est connu.", handling={"classification": "Secret"}
            ),
            "red": draft(
                title="Source",
                body="La source sur l’anhydride.",
                recipient_officer="in.ncb.duty",
                handling={"classification": "Protected B", "tlp": "RED", "named_recipients": ["in.ncb.duty"]},
            ),
        }
        sent = {}
        for name, body in drafts.items():
            response = rcmp.post("/api/v1/messages", json=body)
            assert response.status_code == 201 and response.json()["delivery"]["state"] == "queued", response.text
            sent[name] = response.json()
        for message in sent.values():
            wait_for(
                lambda m=message: rcmp.get(f"/api/v1/messages/{m['id']}").json()["delivery"]["state"] == "delivered"
            )
    return sent


def delivery_state(client: httpx.Client, message_id: str) -> str:
    return str(client.get(f"/api/v1/messages/{message_id}").json()["delivery"]["state"])


def search(client: httpx.Client, q: str, **params: Any) -> list[dict[str, Any]]:
    found = client.get("/api/v1/messages", params={"box": "inbox", "q": q, **params})
    assert found.status_code == 200, found.text
    messages: list[dict[str, Any]] = found.json()["messages"]
    return messages


def found_ids(client: httpx.Client, q: str, **params: Any) -> set[str]:
    return {m["id"] for m in search(client, q, **params)}


def test_search_finds_french_hindi_and_punjabi_words_on_both_sides(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    ca, in_ = shared_pair
    ids = {name: m["id"] for name, m in mail.items()}
    with in_.client("in.ncb") as ncb:
        expected = {
            "anhydride": {ids["french"], ids["markup"], ids["secret"]},
            "ANHYDRIDE acétique": {ids["french"]},
            "precurseur": {ids["french"]},
            "heroine": {ids["french"]},
            "précurs*": {ids["french"]},
            "entrepot": {ids["french"]},
            "एसिटिक": {ids["hindi"]},
            "एनहाइड्राइड": {ids["hindi"]},
            "एसि*": {ids["hindi"]},
            "ਪੰਜਾਬ": {ids["hindi"]},
            "ਐਨਹਾਈਡ੍ਰਾਈਡ": {ids["hindi"]},
            "एस": set(),  # a piece of एसिटिक is not a word of it
            "anhydride heroine": {ids["french"]},  # every word
            "anhydride cocaine": set(),
        }
        for q, wanted in expected.items():
            assert found_ids(ncb, q) == wanted, q
        places = {m["id"]: m["matched_in"] for m in search(ncb, "anhydride")}
        assert places[ids["french"]] == ["body"] and places[ids["markup"]] == ["title"]
        assert [m["matched_in"] for m in search(ncb, "entrepot")] == [["attachments"]]
        assert found_ids(ncb, "anhydride", priority="urgent") == {ids["markup"]}
        assert found_ids(ncb, "anhydride", kind="alert") == set()
        assert found_ids(ncb, "anhydride", focus_area="cyber") == set()
        assert found_ids(ncb, "anhydride", box="outbox") == set()
        assert ncb.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"][0]["matched_in"] is None
    with ca.client("ca.rcmp") as rcmp:
        assert found_ids(rcmp, "ਪੰਜਾਬ", box="outbox") == {ids["hindi"]}
        assert found_ids(rcmp, "precurseur", box="outbox") == {ids["french"]}


def test_a_message_the_officer_may_not_read_is_never_found_nor_counted(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    _, in_ = shared_pair
    ids = {name: m["id"] for name, m in mail.items()}
    hidden = {ids["secret"], ids["red"]}
    with in_.client("in.ncb.low") as low, in_.client("in.cbi") as cbi, in_.client("in.ncb.duty") as duty:
        assert found_ids(duty, "anhydride") == {ids["french"], ids["markup"]} | hidden
        assert found_ids(low, "anhydride") == {ids["french"], ids["markup"]}, "Restricted reads neither"
        assert found_ids(cbi, "anhydride") == set() and found_ids(cbi, "एसिटिक") == set()
        first = low.get("/api/v1/messages", params={"q": "anhydride", "limit": 1})
        second = low.get("/api/v1/messages", params={"q": "anhydride", "limit": 1, "after": first.json()["next"]})
        assert second.json()["next"] is None and "link" not in second.headers, "no next page of what it may not read"
    web, _ = sign_in(in_, "in.ncb.low")
    with closing(web):
        page = web.get("/inbox", params={"q": "anhydride"})
        assert page.status_code == 200
        assert "2 messages have these words." in page.text
        assert not any(message_id in page.text for message_id in hidden)
        assert "Fournisseur" not in page.text and "Source" not in page.text
        rows = web.get("/inbox/rows", params={"q": "anhydride"})
        assert "2 messages have these words." in rows.text and not any(m in rows.text for m in hidden)


def test_what_an_officer_types_is_only_words_and_never_breaks_the_search(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    _, in_ = shared_pair
    with in_.client("in.ncb") as ncb:
        for typed in ('"', "*", "-", "'", "\\", "(anhydride", '"anhydride', "anhydride OR x", "NEAR(anhydride x)"):
            assert ncb.get("/api/v1/messages", params={"q": typed}).status_code == 200, typed
        for typed in ("anhydride:*", "'anhydride' & !heroine", "anhydride)", "-anhydride", "{anhydride}"):
            assert mail["french"]["id"] in found_ids(ncb, typed), typed
        too_long = ncb.get("/api/v1/messages", params={"q": "x" * 201})
        too_many = ncb.get("/api/v1/messages", params={"q": " ".join(f"w{n}" for n in range(17))})
        for refused in (too_long, too_many):
            assert refused.status_code == 422
            assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_search_reads_page_by_page_and_a_tampered_cursor_is_refused(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    _, in_ = shared_pair
    with in_.client("in.ncb.duty") as duty:
        everything = [m["id"] for m in search(duty, "anhydride")]
        assert len(everything) == 4
        pages, after = [], None
        while True:
            params = {"q": "anhydride", "limit": 1} | ({"after": after} if after else {})
            answer = duty.get("/api/v1/messages", params=params)
            assert answer.status_code == 200, answer.text
            pages.append([m["id"] for m in answer.json()["messages"]])
            after = answer.json()["next"]
            if after is None:
                break
            assert answer.headers["link"].endswith('>; rel="next"') and "q=anhydride" in answer.headers["link"]
        assert [page[0] for page in pages] == everything, "the same order, nothing twice, nothing left out"
        for sort in ("deadline", "priority", "focus"):
            in_order = [m["id"] for m in search(duty, "anhydride", sort=sort)]
            walked = every_page(duty, "/api/v1/messages", "messages", q="anhydride", sort=sort, limit=1)
            assert [page[0] for page in walked] == in_order and sorted(in_order) == sorted(everything), sort
        cursor = duty.get("/api/v1/messages", params={"limit": 1}).json()["next"]
        payload, tag = cursor.split(".")
        tampered = ("A" if payload[0] != "A" else "B") + payload[1:] + "." + tag
        for params in (
            {"after": tampered},
            {"after": cursor, "sort": "priority"},
            {"after": "not-a-cursor"},
            {"limit": 0},
            {"limit": 501},
        ):
            refused = duty.get("/api/v1/messages", params=params)
            assert refused.status_code == 422, params
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert duty.get("/api/v1/messages", params={"after": tampered}).json()["type"].endswith("invalid-cursor")


def test_the_inbox_page_highlights_the_words_safely_and_links_its_pages(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    _, in_ = shared_pair
    web, _ = sign_in(in_, "in.ncb.duty")
    with closing(web):
        page = web.get("/inbox", params={"q": "anhydride", "sort": "priority"})
        assert page.status_code == 200
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>anhydride</mark> à Surrey" in page.text
        assert "<script>alert" not in page.text
        first = web.get("/inbox", params={"q": "anhydride", "priority": "routine", "limit": 1})
        found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert found is not None and "q=anhydride" in found[1] and "priority=routine" in found[1]
        later = web.get(html.unescape(found[1]))
        assert later.status_code == 200 and 'rel="first"' in later.text
        assert web.get("/inbox", params={"after": "forged.cursor"}).status_code == 422
        hindi = web.get("/inbox", params={"q": "एनहाइड्राइड"})
        assert "<mark>एनहाइड्राइड</mark>" in hindi.text and "1 message has these words." in hindi.text


def test_the_index_follows_corrections_and_the_retention_purge(
    shared_pair: tuple[RunningNode, RunningNode], mail: dict[str, dict[str, Any]]
) -> None:
    ca, in_ = shared_pair
    with ca.client("ca.rcmp") as rcmp:
        corrected = rcmp.post(
            f"/api/v1/messages/{mail['french']['id']}/amendments",
            json={"kind": "correction", "reason": "wrong substance", "body": "Il s’agit de peroxyde, pas d’anhydride."},
        )
        assert corrected.status_code == 201, corrected.text
    with in_.client("in.ncb") as ncb:
        wait_for(lambda: found_ids(ncb, "peroxyde") == {corrected.json()["id"]})
        node = open_local(in_)
        try:
            summary = purge_expired(node, datetime.now(UTC) + timedelta(days=20 * 365))
        finally:
            node.close()
        assert summary.purged > 0
        assert found_ids(ncb, "anhydride") == set() and found_ids(ncb, "एसिटिक") == set()
    for side in (ca, in_):
        with side.engine.connect() as conn:
            stored = dict(conn.execute(select(message_search.c.message_id, message_search.c.words)).all())
            rows = conn.execute(select(messages.c.id, messages.c.content, messages.c.purged_at)).all()
        now_as_they_are = {r.id: message_words(r.content) for r in rows if r.purged_at is None}
        assert stored == {k: v for k, v in now_as_they_are.items() if v}, "every message indexed as it now is"
