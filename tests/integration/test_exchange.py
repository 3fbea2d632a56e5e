"""End to end between two real node processes: send, deliver with receipt, read receipt, answer."""

from __future__ import annotations

from tests.integration.nodes import RunningNode, draft, wait_for


def test_request_is_delivered_read_and_answered_in_the_same_case(pair: tuple[RunningNode, RunningNode]) -> None:
    ca, in_ = pair
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
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, in_ = pair
    with ca.client("ca.rcmp") as rcmp, in_.client("in.ncb") as ncb:
        sent = rcmp.post("/api/v1/messages", json=draft(title="Re-export of acetic anhydride"))
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]
        wait_for(lambda: ncb.get(f"/api/v1/messages/{message_id}").status_code == 200)

        for weaker in ({"classification": "Unclassified"}, {"classification": "Restricted", "tlp": "GREEN"}):
            refused = ncb.post(f"/api/v1/messages/{message_id}/reply", json={"handling": weaker, "body": "No."})
            assert refused.status_code == 422, refused.text
            assert refused.json()["type"] == "urn:accord:problem:handling-weakened"
        assert ncb.get("/api/v1/messages", params={"box": "outbox"}).json()["messages"] == []

        inherited = ncb.post(f"/api/v1/messages/{message_id}/reply", json={"body": "Licence valid."})
        assert inherited.status_code == 201, inherited.text
        answer = ncb.get(f"/api/v1/messages/{inherited.json()['id']}").json()
        assert answer["title"] == "Re: Re-export of acetic anhydride"
        assert answer["handling"]["classification"] == "Restricted"  # Protected B's level in India's scheme
        assert (answer["handling"]["tlp"], answer["handling"]["caveats"]) == ("AMBER", ["H0", "H2"])

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
