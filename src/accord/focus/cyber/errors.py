"""Errors of the cyber focus area and its TAXII 2.1 service (TAXII 2.1 §3.6.1 status codes)."""

from __future__ import annotations

from accord.errors import AccordError
from accord.i18n import N_


class TaxiiError(AccordError):
    """Root of the errors only the TAXII service raises; the others are Accord's usual ones (401, 403, 404, 413)."""

    status = 400
    slug = "taxii-bad-request"
    title = N_("The server did not understand the request")


class NotAcceptable(TaxiiError):
    status = 406
    slug = "taxii-not-acceptable"
    title = N_("The media type in the Accept header is not supported")


class UnsupportedMediaType(TaxiiError):
    status = 415
    slug = "taxii-unsupported-media-type"
    title = N_("The media type in the Content-Type header is not supported")


class InvalidNextToken(TaxiiError):
    slug = "taxii-invalid-next"
    title = N_("The next token is not valid")


class StaleNextToken(TaxiiError):
    slug = "taxii-stale-next"
    title = N_("The next token has expired")


class InvalidFilter(TaxiiError):
    slug = "taxii-invalid-filter"
    title = N_("A filter parameter is not valid")


class InvalidEnvelope(TaxiiError):
    slug = "taxii-invalid-envelope"
    title = N_("The body is not a TAXII envelope")
