"""Accord's error hierarchy: every error says what was wrong and what to do about it."""

from __future__ import annotations

from pydantic import ValidationError

from accord.i18n import N_


class AccordError(Exception):
    """Root of every error Accord raises on purpose.

    `status` is the HTTP status the API answers with; `slug` names the problem type
    (RFC 9457 `type` is built from it) so clients can branch on it.
    """

    status: int = 400
    slug: str = "accord-error"
    title: str = "Accord error"
    citation: str | None = None  # the law a refusal enforces, where it enforces one (set by `cite`)

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def cite(self, citation: str | None) -> AccordError:
        """Name the law this refusal enforces: in the text, and as the problem's `citation` member."""
        if citation and self.citation is None:
            self.citation = citation
            self.detail = f"{self.detail} ({citation})"
            self.args = (self.detail,)
        return self

    def extensions(self) -> dict[str, object]:
        """Extra members of the problem+json body (RFC 9457 extension members)."""
        return {}

    def headers(self) -> dict[str, str]:
        """Header fields the answer carries with the problem (e.g. Retry-After, RFC 9110 §10.2.3)."""
        return {}


class InvalidInput(AccordError):
    status = 422
    slug = "invalid-input"
    title = N_("The request is not valid")


class NotFound(AccordError):
    status = 404
    slug = "not-found"
    title = N_("No such thing")


class Conflict(AccordError):
    status = 409
    slug = "conflict"
    title = N_("The request conflicts with the current state")


class PayloadTooLarge(AccordError):
    status = 413
    slug = "payload-too-large"
    title = N_("The payload is larger than this node accepts")


class AuthenticationFailed(AccordError):
    status = 401
    slug = "authentication-failed"
    title = N_("Authentication failed")


class Forbidden(AccordError):
    status = 403
    slug = "forbidden"
    title = N_("Not permitted")


class ConfigurationError(AccordError):
    status = 500
    slug = "configuration-error"
    title = N_("The node is not configured correctly")


def validation_text(exc: ValidationError, limit: int = 5, unnamed: str = "") -> str:
    """A pydantic error as one line: `field.path: message; …` (at most `limit`; `unnamed` for a whole-model error)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or unnamed}: {e['msg']}" for e in exc.errors(include_url=False)[:limit]
    )
