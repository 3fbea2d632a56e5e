"""Schemathesis extensions for the OpenAPI contract test (loaded by the tool, not collected by pytest): how to put a
compact JWS on the wire as `application/jose` (RFC 7515 §9.2.1), which the tool does not know: as its text."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias("application/jose", "text/plain")
