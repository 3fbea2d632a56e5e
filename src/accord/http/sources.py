"""Where a request came from, as sign-in throttling and the counters of refused requests count it."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from accord.trust.refusals import source_address


def request_source(request: HTTPConnection) -> str:
    """The client's address. Behind a reverse proxy on this host, uvicorn has already put there the address the proxy
    names in X-Forwarded-For (it trusts that header only from the addresses in FORWARDED_ALLOW_IPS, by default only
    the loopback addresses), so the proxy's clients are told apart."""
    client = request.client
    return source_address(client.host if client is not None else None)
