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
