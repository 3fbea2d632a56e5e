"""Every HTTP client a node makes shares one set of TLS settings: making them reads the whole CA bundle (24 ms of CPU),
which a node otherwise paid for each delivery worker, each checkpoint round and each start-up hello. Shared, they
still check a peer's certificate as httpx's own defaults do."""

from __future__ import annotations

import ssl

import httpx

from accord.exchange.transport import PeerClient, tls_context


def _context_of(client: PeerClient) -> ssl.SSLContext:
    transport = client._http._transport
    assert isinstance(transport, httpx.HTTPTransport)
    context = transport._pool._ssl_context  # httpcore's pool holds the context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_every_peer_client_uses_the_one_tls_context_of_the_process() -> None:
    with PeerClient() as first, PeerClient(timeout_s=5.0, connect_timeout_s=2.0) as second:
        assert _context_of(first) is tls_context()
        assert _context_of(second) is tls_context()


def test_the_shared_context_checks_certificates_and_host_names() -> None:
    context = tls_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
