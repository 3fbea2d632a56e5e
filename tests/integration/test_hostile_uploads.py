"""Large bodies from callers the node does not know: attachments uploaded to /federation/v1/blobs, envelope batches
posted to /federation/v1/envelopes and the web UI's form posts are authenticated before a byte of their body is read,
limited in size and number while they stream, and a refused one leaves nothing behind.

"Before the body is read" is shown on the wire: the request announces hundreds of megabytes, the test sends the
headers and a little of the body, and the answer arrives while the rest is never sent. The node's peak memory is
read from /proc around the largest of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from uuid6 import uuid7

from accord.crypto.keys import NodeKeys
from accord.crypto.signing import sign_claims
from accord.exchange.uploads import INCOMING_DIR, UPLOAD_TOKEN_HEADER, UploadKind
from accord.exchange.wake import HELLO_TYP
from accord.store.tables import blobs
from tests.conftest import DatabaseFactory
from tests.integration.forgery import CA_NODE, ENVELOPES_PATH, IN_NODE, batch, batch_token, post_batch, seal
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, wait_for

BLOBS = "/federation/v1/blobs"
ANNOUNCED = 200 * 1024 * 1024  # what a hostile request says it will send
SENT = 256 * 1024  # what it sends before it waits for the answer
ATTACHMENT_LIMIT = 2 * 1024 * 1024
FORM_LIMIT = 1024 * 1024
PROBLEM_JSON = "application/problem+json"


@dataclass
class Uploads:
    india: RunningNode  # started, one upload at a time, small limits
    ca_keys: NodeKeys  # Canada's node is not started: its keys sign and seal as it would

    @property
    def incoming(self) -> Path:
        return self.india.data_dir / INCOMING_DIR


@pytest.fixture(scope="module")
def uploads(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uploads]:
    """What is refused here is refused before storage is touched: SQLite only."""
    root = tmp_path_factory.mktemp("uploads")
    ca, india = templates.copy(DatabaseFactory("sqlite", root), root)
    india.extra_env.update(
        {
            "ACCORD_MAX_CONCURRENT_UPLOADS": "1",
            "ACCORD_MAX_CONCURRENT_BATCHES": "1",
            "ACCORD_MAX_ATTACHMENT_BYTES": str(ATTACHMENT_LIMIT),
            "ACCORD_MAX_FORM_BYTES": str(FORM_LIMIT),
        }
    )
    india.start()
    try:
        yield Uploads(india, ca.keys)
    finally:
        india.dispose()
        ca.dispose()


# --- the wire ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        import json

        assert self.headers["content-type"].startswith(PROBLEM_JSON), self.headers
        body: dict[str, Any] = json.loads(self.body)
        return body


def connect(node: RunningNode) -> socket.socket:
    parts = urlsplit(node.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=15)


def send_head(sock: socket.socket, node: RunningNode, path: str, headers: dict[str, str]) -> None:
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(node.url).netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def read_answer(sock: socket.socket) -> Answer:
    """The answer to the request on `sock`, read while the client sends nothing more (a socket timeout fails the
    test: the node was waiting for the body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the node closed the connection without answering: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the node closed the connection in the middle of its answer"
        body += chunk
    return Answer(int(status_line.split()[1]), headers, body[:length])


def answered_before_the_body(
    node: RunningNode, path: str, headers: dict[str, str], announced: int = ANNOUNCED, sent: int = SENT
) -> Answer:
    """POST announcing `announced` bytes, send only `sent` of them, and read the answer."""
    with connect(node) as sock:
        send_head(sock, node, path, headers | {"Content-Length": str(announced)})
        sock.sendall(b"\0" * sent)
        return read_answer(sock)


def peak_memory_kib(node: RunningNode) -> int:
    """The node process's peak resident set (VmHWM), in KiB."""
    assert node.process is not None
    status = Path(f"/proc/{node.process.pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None
    return int(found[1])


# --- uploads, as the peer's delivery worker makes them ----------------------------------------------------------------


def sealed_blob(fed: Uploads, data: bytes) -> bytes:
    """An attachment sealed as `DeliveryWorker._push_blob` seals it."""
    sha256 = hashlib.sha256(data).hexdigest()
    claims = {
        "iss": CA_NODE,
        "aud": IN_NODE,
        "jti": str(uuid7()),
        "iat": int(time.time()),
        "kind": "blob",
        "ref": sha256,
        "body": {
            "sha256": sha256,
            "media_type": "application/pdf",
            "size": len(data),
            "data": base64.b64encode(data).decode(),
        },
    }
    return seal(claims, fed.ca_keys, fed.india.keys.public).encode()


def upload_token(
    fed: Uploads, body: bytes | None = None, *, signed_by: Any = None, typ: str = UploadKind.SEALED_BLOB, **claims: Any
) -> str:
    """An upload token as `sign_upload` makes it for an attachment `body` (Canada's signing key, to India), or as
    changed."""
    signed: dict[str, Any] = {"iss": CA_NODE, "aud": IN_NODE, "iat": int(time.time()), "jti": str(uuid7())}
    if body is not None:
        signed |= {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    return sign_claims(signed | claims, signed_by or fed.ca_keys.signing, typ)


def post_blob(fed: Uploads, body: bytes, token: str) -> httpx.Response:
    headers = {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: token}
    return httpx.post(fed.india.url + BLOBS, content=body, headers=headers, timeout=30.0)


def stored_blobs(fed: Uploads) -> int:
    with fed.india.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(blobs)) or 0


def bodies_arriving(fed: Uploads) -> list[Path]:
    return sorted(fed.incoming.glob("*")) if fed.incoming.exists() else []


def assert_refused(answer: Answer | httpx.Response, status: int, slug: str) -> dict[str, Any]:
    if isinstance(answer, httpx.Response):
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        body: dict[str, Any] = answer.json()
        request_id = answer.headers["x-request-id"]
    else:
        assert answer.status == status, answer.body
        body = answer.problem()
        request_id = answer.headers["x-request-id"]
    assert body["type"] == f"urn:accord:problem:{slug}", body
    assert body["request_id"] == request_id
    return body


# --- the federation channel: /federation/v1/blobs ---------------------------------------------------------------------


def test_an_anonymous_200_mb_upload_is_answered_before_its_body_and_the_node_stays_small(uploads: Uploads) -> None:
    before_blobs, before_peak = stored_blobs(uploads), peak_memory_kib(uploads.india)
    with connect(uploads.india) as sock:
        send_head(sock, uploads.india, BLOBS, {"Content-Type": "application/jose", "Content-Length": str(ANNOUNCED)})
        sock.sendall(b"\0" * SENT)
        answer = read_answer(sock)
        body = assert_refused(answer, 401, "peer-not-authenticated")
        # Whatever the client goes on sending is not kept: send 150 MB more, as the attack did, if the node listens.
        try:
            for _ in range(150):
                sock.sendall(b"\0" * (1024 * 1024))
        except OSError:
            pass  # the node closed the connection instead: as good
    assert body["reason"] == "missing-token"
    assert answer.headers["x-request-id"] in body["detail"]  # the generic detail names the id to quote
    assert UPLOAD_TOKEN_HEADER not in body["detail"]
    assert stored_blobs(uploads) == before_blobs and bodies_arriving(uploads) == []
    assert peak_memory_kib(uploads.india) - before_peak < 32 * 1024, "the node buffered the body"


@pytest.mark.parametrize(
    ("case", "status", "slug"),
    [
        ("signed by a stranger", 401, "peer-not-authenticated"),
        ("stale", 401, "peer-not-authenticated"),
        ("addressed to another node", 401, "peer-not-authenticated"),
        ("a hello, not an upload token", 400, "malformed-artefact"),
        ("not a token", 400, "malformed-artefact"),
        ("no hash", 400, "malformed-artefact"),
    ],
)
def test_an_upload_token_that_does_not_verify_is_refused_before_the_body(
    uploads: Uploads, case: str, status: int, slug: str
) -> None:
    announced = {"sha256": "ab" * 32, "size": ANNOUNCED}
    token = {
        "signed by a stranger": lambda: upload_token(uploads, **announced, signed_by=NodeKeys.generate().signing),
        "stale": lambda: upload_token(uploads, **announced, iat=int(time.time()) - 3600),
        "addressed to another node": lambda: upload_token(uploads, **announced, aud="in-node-9"),
        "a hello, not an upload token": lambda: upload_token(uploads, **announced, typ=HELLO_TYP),
        "not a token": lambda: "not-a-token",
        "no hash": lambda: upload_token(uploads, size=ANNOUNCED),
    }[case]()
    before = stored_blobs(uploads)
    answer = answered_before_the_body(
        uploads.india, BLOBS, {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: token}
    )
    body = assert_refused(answer, status, slug)
    assert "JWS" not in body["detail"] and "joserfc" not in body["detail"], body  # nothing of the parser
    assert stored_blobs(uploads) == before and bodies_arriving(uploads) == []


def test_an_upload_announcing_more_than_the_node_takes_is_refused_before_the_body(uploads: Uploads) -> None:
    token = upload_token(uploads, sha256="ab" * 32, size=ANNOUNCED)
    answer = answered_before_the_body(
        uploads.india, BLOBS, {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: token}
    )
    assert_refused(answer, 413, "payload-too-large")


def test_a_content_length_beyond_what_the_token_announces_is_refused_before_the_body(uploads: Uploads) -> None:
    body = sealed_blob(uploads, os.urandom(1024))
    token = upload_token(uploads, body)
    headers = {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: token}
    answer = answered_before_the_body(uploads.india, BLOBS, headers, announced=len(body) * 100, sent=len(body))
    assert_refused(answer, 413, "payload-too-large")


def test_a_body_longer_than_announced_is_refused_the_moment_it_is_and_nothing_is_stored(uploads: Uploads) -> None:
    body = sealed_blob(uploads, os.urandom(64 * 1024))
    token = upload_token(uploads, body)
    before = stored_blobs(uploads)
    with connect(uploads.india) as sock:  # chunked: no length declared, the node counts as it reads
        headers = {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: token, "Transfer-Encoding": "chunked"}
        send_head(sock, uploads.india, BLOBS, headers)
        longer = body + b"A" * (64 * 1024)
        sock.sendall(f"{len(longer):x}\r\n".encode() + longer + b"\r\n")  # and never the last chunk
        answer = read_answer(sock)
    assert_refused(answer, 413, "payload-too-large")
    assert stored_blobs(uploads) == before
    wait_for(lambda: bodies_arriving(uploads) == [], 10)


def test_a_body_other_than_the_one_announced_is_refused_and_nothing_is_stored(uploads: Uploads) -> None:
    announced = sealed_blob(uploads, os.urandom(4096))
    swapped = sealed_blob(uploads, os.urandom(4096))
    assert len(announced) == len(swapped)
    before = stored_blobs(uploads)
    assert_refused(post_blob(uploads, swapped, upload_token(uploads, announced)), 400, "upload-mismatch")
    assert stored_blobs(uploads) == before and bodies_arriving(uploads) == []


def test_a_genuine_upload_is_stored_owner_only_and_its_token_is_good_once(uploads: Uploads) -> None:
    data = os.urandom(300 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    body = sealed_blob(uploads, data)
    token = upload_token(uploads, body)
    stored = post_blob(uploads, body, token)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"sha256": digest, "size": len(data), "stored": True}
    path = uploads.india.data_dir / "blobs" / digest[:2] / digest
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert bodies_arriving(uploads) == []
    assert_refused(post_blob(uploads, body, token), 409, "replayed-upload")


def test_one_upload_more_than_the_node_takes_at_once_is_refused_until_a_slot_frees(uploads: Uploads) -> None:
    first, second = sealed_blob(uploads, os.urandom(8192)), sealed_blob(uploads, os.urandom(8192))
    with connect(uploads.india) as holding:  # admitted, and its body arrives slowly
        headers = {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: upload_token(uploads, first)}
        send_head(holding, uploads.india, BLOBS, headers | {"Content-Length": str(len(first))})
        holding.sendall(first[:1000])
        wait_for(lambda: len(bodies_arriving(uploads)) == 1, 10)
        headers = {"Content-Type": "application/jose", UPLOAD_TOKEN_HEADER: upload_token(uploads, second)}
        busy = answered_before_the_body(uploads.india, BLOBS, headers, announced=len(second), sent=100)
        assert_refused(busy, 503, "uploads-busy")
    # The first sender went away in the middle: its slot and its file are freed.
    wait_for(lambda: bodies_arriving(uploads) == [], 10)
    wait_for(lambda: post_blob(uploads, second, upload_token(uploads, second)).status_code == 200, 10)


# --- the federation channel: /federation/v1/envelopes -----------------------------------------------------------------

# Under the 32 MiB a batch may have by default: a node that read a batch before looking at who sent it read all of it.
BATCH_ANNOUNCED = 30 * 1000 * 1000
JSON_HEADERS = {"Content-Type": "application/json"}


def test_an_anonymous_30_mb_batch_is_answered_before_its_body_and_the_node_stays_small(uploads: Uploads) -> None:
    before_peak = peak_memory_kib(uploads.india)
    with connect(uploads.india) as sock:
        send_head(sock, uploads.india, ENVELOPES_PATH, JSON_HEADERS | {"Content-Length": str(BATCH_ANNOUNCED)})
        sock.sendall(b'{"envelopes": [{"ref": "a", "token": "' + b"A" * SENT)
        answer = read_answer(sock)
        body = assert_refused(answer, 401, "peer-not-authenticated")
        try:  # the rest of the 30 MB, if the node still listens: it must not be kept
            for _ in range(BATCH_ANNOUNCED // (1024 * 1024)):
                sock.sendall(b"A" * (1024 * 1024))
        except OSError:
            pass  # the node closed the connection instead: as good
    assert body["reason"] == "missing-token"
    assert answer.headers["x-request-id"] in body["detail"]  # the generic detail names the id to quote
    assert "results" not in body, "an envelope of an unauthenticated batch was looked at"
    assert peak_memory_kib(uploads.india) - before_peak < 16 * 1024, "the node buffered the body"


@pytest.mark.parametrize(
    ("case", "status", "slug"),
    [
        ("signed by a stranger", 401, "peer-not-authenticated"),
        ("stale", 401, "peer-not-authenticated"),
        ("addressed to another node", 401, "peer-not-authenticated"),
        ("an attachment's upload token", 400, "malformed-artefact"),
        ("announcing more than the node takes", 413, "payload-too-large"),
    ],
)
def test_a_batch_token_that_does_not_verify_is_refused_before_the_body(
    uploads: Uploads, case: str, status: int, slug: str
) -> None:
    announced: dict[str, Any] = {"sha256": "ab" * 32, "size": BATCH_ANNOUNCED}
    genuine = uploads.ca_keys.signing
    token = {
        "signed by a stranger": lambda: batch_token(b"", NodeKeys.generate().signing, **announced),
        "stale": lambda: batch_token(b"", genuine, **announced, iat=int(time.time()) - 3600),
        "addressed to another node": lambda: batch_token(b"", genuine, **announced, recipient="in-node-9"),
        "an attachment's upload token": lambda: upload_token(uploads, **announced),
        "announcing more than the node takes": lambda: batch_token(b"", genuine, **announced | {"size": 64 << 20}),
    }[case]()
    answer = answered_before_the_body(
        uploads.india, ENVELOPES_PATH, JSON_HEADERS | {UPLOAD_TOKEN_HEADER: token}, announced=BATCH_ANNOUNCED
    )
    refused = assert_refused(answer, status, slug)
    assert "results" not in refused
    assert "JWS" not in refused["detail"] and "joserfc" not in refused["detail"], refused  # nothing of the parser


def _hold_a_slot(uploads: Uploads, body: bytes) -> socket.socket:
    """A batch admitted by India whose body then arrives slowly: its head and its first bytes, no more."""
    holding = connect(uploads.india)
    headers = JSON_HEADERS | {UPLOAD_TOKEN_HEADER: batch_token(body, uploads.ca_keys.signing)}
    send_head(holding, uploads.india, ENVELOPES_PATH, headers | {"Content-Length": str(len(body))})
    holding.sendall(body[:100])
    return holding


def _answered(sock: socket.socket) -> bool:
    """Whether the node has answered on `sock` (or closed it): something to read without waiting."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # b"" if the node closed it
        return True
    except BlockingIOError:
        return False
    finally:
        sock.settimeout(timeout)


def test_one_batch_more_than_the_node_takes_at_once_is_refused_until_a_slot_frees(uploads: Uploads) -> None:
    """Only the pinned peer gets this far; still, each batch is held in memory while it arrives, so they are few."""
    first = json.dumps(batch("A" * 8192)).encode()  # never sent whole: what it holds does not matter
    another = batch("a.b.c.d.e")
    holds: list[socket.socket] = []

    def busy_while_held() -> httpx.Response | None:
        # The two batches take the slot in the order their tokens verify (in the node's threads): where the other
        # came first, the held one was itself answered busy, and is held again.
        if not holds or _answered(holds[-1]):
            holds.append(_hold_a_slot(uploads, first))
        answer = post_batch(uploads.india.url, another, uploads.ca_keys.signing)
        return answer if answer.status_code == 503 else None

    try:
        # Another batch, sent whole, is answered at once: busy while the first holds the slot.
        busy = wait_for(busy_while_held, 10)
        assert_refused(busy, 503, "uploads-busy")
        assert busy.headers["retry-after"]
    finally:
        for holding in holds:
            holding.close()
    # The first sender went away in the middle: its slot is freed.
    wait_for(lambda: post_batch(uploads.india.url, another, uploads.ca_keys.signing).status_code != 503, 10)


# --- the web UI's form posts ------------------------------------------------------------------------------------------


def sign_in(node: RunningNode, username: str) -> httpx.Client:
    client = httpx.Client(base_url=node.url, timeout=30.0, follow_redirects=False)
    form = client.get("/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    signed_in = client.post("/signin", data={"username": username, "password": PASSWORD, "signin_token": token[1]})
    assert signed_in.status_code == 303, signed_in.text
    return client


MULTIPART = "multipart/form-data; boundary=----accord-test"


@pytest.mark.parametrize("cookie", [None, "forged-session"])
def test_an_anonymous_200_mb_form_post_gets_the_sign_in_redirect_before_its_body(
    uploads: Uploads, cookie: str | None
) -> None:
    headers = {"Content-Type": MULTIPART} | ({"Cookie": f"accord_session={cookie}"} if cookie else {})
    answer = answered_before_the_body(uploads.india, "/compose", headers)
    assert answer.status == 303 and answer.headers["location"] == "/signin?next=/inbox", answer
    htmx = answered_before_the_body(uploads.india, "/cyber/share", headers | {"HX-Request": "true"})
    assert htmx.status == 401 and htmx.headers["hx-redirect"].startswith("/signin"), htmx


def test_a_signed_in_form_post_over_the_cap_is_refused_before_its_body(uploads: Uploads) -> None:
    client = sign_in(uploads.india, "in.ncb")
    cookie = f"accord_session={client.cookies['accord_session']}"
    headers = {"Content-Type": MULTIPART, "Cookie": cookie}
    over = answered_before_the_body(uploads.india, "/compose", headers, announced=FORM_LIMIT + 1)
    assert over.status == 413 and over.headers["content-type"].startswith("text/html"), over
    assert b"payload is larger than this node accepts" in over.body.lower()
    with connect(uploads.india) as sock:  # a form of unknown length is not read to find out
        send_head(sock, uploads.india, "/compose", headers | {"Transfer-Encoding": "chunked"})
        sock.sendall(b"1000\r\n" + b"A" * 4096 + b"\r\n")
        assert read_answer(sock).status == 411
    # Under the cap, the form is read as before (here: refused for its missing security token).
    assert client.post("/compose", data={"title": "t"}).status_code == 403


def test_the_sign_in_form_is_capped_before_its_body(uploads: Uploads) -> None:
    answer = answered_before_the_body(
        uploads.india, "/signin", {"Content-Type": "application/x-www-form-urlencoded"}, announced=ANNOUNCED
    )
    assert answer.status == 413, answer
