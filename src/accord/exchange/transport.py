"""The one client for every call this node makes to its peer: envelope batches, attachments, the start-up hello,
checkpoints to countersign and demands for ledger proofs. What travels is sealed or signed by the caller; this module
only knows the peer's paths, the timeouts, and how an answer reads."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any

import httpx

from accord.errors import AccordError
from accord.exchange.uploads import UPLOAD_TOKEN_HEADER
from accord.i18n import N_, _
from accord.trust.peers import PeerRecord

ENVELOPES_PATH = "/federation/v1/envelopes"
BLOBS_PATH = "/federation/v1/blobs"
HELLO_PATH = "/federation/v1/hello"
CHECKPOINTS_PATH = "/federation/v1/checkpoints"
INCLUSION_PATH = "/federation/v1/ledger/inclusion"
RECOVERY_PATH = "/federation/v1/recovery"
KEY_ROTATIONS_PATH = "/federation/v1/key-rotations"
HEALTH_PATH = "/healthz"
JOSE = {"Content-Type": "application/jose"}
JSON = {"Content-Type": "application/json"}


class PeerUnreachable(AccordError):
    status = 503
    slug = "peer-unreachable"
    title = N_("The peer node did not answer")


@dataclass(frozen=True, slots=True)
class PeerAnswer:
    """The peer's HTTP answer: its status and JSON body (None if it sent no JSON)."""

    status: int
    body: Any
    text: str

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def problem_slug(self) -> str:
        """The problem type's last segment (RFC 9457 `type`, e.g. `urn:accord:problem:stale-envelope`)."""
        kind = self.body.get("type", "") if isinstance(self.body, dict) else ""
        return str(kind).rpartition(":")[2]

    @property
    def detail(self) -> str:
        if isinstance(self.body, dict) and "detail" in self.body:
            return str(self.body["detail"])
        return self.text[:300]


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every HTTP client this process makes (httpx's defaults: certificates checked against
    certifi's CA bundle), made once and shared: making them reads the whole CA bundle, 24 ms of CPU, which a node
    paid for each delivery worker, each checkpoint round and each start-up hello (a context is safe to share
    between threads and clients)."""
    return httpx.create_ssl_context()


class PeerClient:
    """HTTP to pinned peers; a refused connection or a timeout raises PeerUnreachable, any answer is returned."""

    def __init__(self, timeout_s: float = 60.0, connect_timeout_s: float = 5.0) -> None:
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s), verify=tls_context())

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send_envelopes(self, peer: PeerRecord, batch: bytes, upload_token: str) -> PeerAnswer:
        """An envelope batch (JSON), with the upload token the peer verifies before it reads the body."""
        return self._post(peer, ENVELOPES_PATH, content=batch, headers=JSON | {UPLOAD_TOKEN_HEADER: upload_token})

    def send_blob(self, peer: PeerRecord, sealed: bytes, upload_token: str) -> PeerAnswer:
        """A sealed attachment, with the upload token the peer verifies before it reads the body."""
        return self._post(peer, BLOBS_PATH, content=sealed, headers=JOSE | {UPLOAD_TOKEN_HEADER: upload_token})

    def send_hello(self, peer: PeerRecord, token: str) -> PeerAnswer:
        return self._post(peer, HELLO_PATH, content=token, headers=JOSE)

    def send_checkpoint(self, peer: PeerRecord, token: str) -> PeerAnswer:
        return self._post(peer, CHECKPOINTS_PATH, content=token, headers=JOSE)

    def send_rotation(self, peer: PeerRecord, statement: str) -> PeerAnswer:
        """A key rotation statement, signed by the key the peer has pinned."""
        return self._post(peer, KEY_ROTATIONS_PATH, content=statement, headers=JOSE)

    def request_inclusion(self, peer: PeerRecord, token: str) -> PeerAnswer:
        return self._post(peer, INCLUSION_PATH, content=token, headers=JOSE)

    def request_recovery(self, peer: PeerRecord, token: str) -> PeerAnswer:
        return self._post(peer, RECOVERY_PATH, content=token, headers=JOSE)

    def is_healthy(self, base_url: str) -> bool:
        """Whether a node (this one, at start-up) answers its health check."""
        try:
            return self._http.get(base_url + HEALTH_PATH).status_code == 200
        except httpx.HTTPError:
            return False

    def _post(self, peer: PeerRecord, path: str, **request: Any) -> PeerAnswer:
        try:
            response = self._http.post(peer.url + path, **request)
        except httpx.HTTPError as exc:
            raise PeerUnreachable(
                _("{node_id} at {url} did not answer: {exc!r}").format(node_id=peer.node_id, url=peer.url, exc=exc)
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        return PeerAnswer(response.status_code, body, response.text)
