"""Officer accounts, argon2 password hashes and opaque bearer tokens (stored hashed, shared by all processes)."""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import VerificationError
from sqlalchemy import Connection, delete, insert, select, update
from uuid6 import uuid7

from accord.config import PasswordHashing
from accord.crypto.canonical import sha256_hex
from accord.directory.throttle import Charge, SignInAttempt, admit_sign_in, settle_failure, settle_success
from accord.domain.handling import CommonLevel
from accord.domain.parties import Party
from accord.errors import AuthenticationFailed, Conflict, InvalidInput
from accord.i18n import Language, _
from accord.i18n.zones import parse_zone, zone_or_none
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import access_tokens, agencies, officers

# The cost of a new hash. A stored hash names its own parameters ($argon2id$v=19$m=…,t=…,p=…$), and verification
# reads them from there, so a node verifies hashes of either profile and changing the profile touches no account.
_HASHERS = {
    PasswordHashing.PRODUCTION: PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    PasswordHashing.TEST: PasswordHasher.from_parameters(
        dataclasses.replace(profiles.RFC_9106_LOW_MEMORY, time_cost=1, memory_cost=8, parallelism=1)
    ),
}
_verifier = _HASHERS[PasswordHashing.PRODUCTION]


def hash_password(password: str, hashing: PasswordHashing) -> str:
    return _HASHERS[hashing].hash(password)


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so sign-in takes the same time either way (at production
    cost; made on first use, not by every process that imports this module)."""
    return hash_password("no such officer", PasswordHashing.PRODUCTION)


class Role(StrEnum):
    OFFICER = "officer"
    ANALYST = "analyst"
    LEGAL = "legal"
    DEPUTY_HEAD = "deputy_head"  # decides what legal officers escalate (ACMFEA: the deputy head decides)
    COORDINATOR = "coordinator"
    OPERATOR = "operator"
    OVERSIGHT = "oversight"


@dataclass(frozen=True, slots=True)
class Officer:
    id: str
    username: str
    display_name: str
    party: Party
    agency: str
    roles: frozenset[Role]
    clearance: CommonLevel = CommonLevel.SECRET
    focus_areas: tuple[str, ...] = ()  # empty: every focus area of the agreement
    email: str | None = None  # where notifications reach them by mail
    duty: bool = False  # on duty: told of what arrives for their agency
    language: Language | None = None  # None: the node's default
    time_zone: str | None = None  # an IANA zone; None: the node's

    @property
    def zone(self) -> tzinfo | None:
        """The zone the officer reads times in; None: the node's (also for a name this machine's zone database has
        since lost)."""
        return zone_or_none(self.time_zone)


# An address as the directory keeps it: one addr-spec (RFC 5322 §3.4.1) of printable ASCII without spaces, a domain
# with a dot; nothing a mail header could be made to carry besides it (no name, no comment, no line break).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDRESS = re.compile(rf"{_ATOM}(?:{_ATOM}|\.){{0,63}}@{_LABEL}(?:\.{_LABEL})+")


def checked_email(address: str) -> str:
    """The address, trimmed, if it is one an officer can be mailed at; InvalidInput otherwise."""
    trimmed = address.strip()
    if len(trimmed) > 254 or not _ADDRESS.fullmatch(trimmed) or ".." in trimmed:
        raise InvalidInput(_("{address!r} is not an email address").format(address=address))
    return trimmed


def role_names(officer: Officer) -> str:
    """The officer's roles for a message: "officer, analyst"."""
    return ", ".join(sorted(role.value for role in officer.roles))


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    language: Language | None = None  # the officer's own, for the session to start in


def create_officer(
    node: Node,
    username: str,
    password: str,
    display_name: str,
    agency: str,
    roles: frozenset[Role],
    is_sample: bool = False,
    clearance: CommonLevel = CommonLevel.SECRET,
    focus_areas: tuple[str, ...] = (),
    language: Language | None = None,
    *,
    email: str | None = None,
    duty: bool = False,
) -> Officer:
    email = checked_email(email) if email is not None else None
    if len(password) < 12:
        raise InvalidInput(_("a password must have at least 12 characters"))
    if not roles:
        raise InvalidInput(_("an officer needs at least one role"))
    with node.engine.begin() as conn:
        known = conn.execute(
            select(agencies.c.code).where(agencies.c.party == node.party.value, agencies.c.code == agency)
        ).first()
        if known is None:
            codes = conn.execute(
                select(agencies.c.code).where(agencies.c.party == node.party.value).order_by(agencies.c.code)
            ).scalars()
            raise InvalidInput(
                _("unknown agency {agency!r} of party {party}; one of {codes}").format(
                    agency=agency, party=node.party, codes=", ".join(codes)
                )
            )
        if conn.execute(select(officers.c.id).where(officers.c.username == username)).first():
            raise Conflict(_("an officer named {username!r} exists already").format(username=username))
        unknown_areas = [a for a in focus_areas if node.agreement.focus_area(a) is None]
        if unknown_areas:
            raise InvalidInput(
                _("focus areas {unknown_areas} are not in the agreement").format(unknown_areas=unknown_areas)
            )
        officer = Officer(
            str(uuid7()),
            username,
            display_name,
            node.party,
            agency,
            roles,
            clearance,
            tuple(focus_areas),
            email=email,
            duty=duty,
            language=language,
        )
        conn.execute(
            insert(officers),
            [
                {
                    "id": officer.id,
                    "username": username,
                    "display_name": display_name,
                    "party": node.party.value,
                    "agency": agency,
                    "roles": ",".join(sorted(roles)),
                    "clearance": clearance.value,
                    "focus_areas": ",".join(focus_areas),
                    "password_hash": hash_password(password, node.settings.password_hashing),
                    "is_sample": is_sample,
                    "active": True,
                    "created_at": datetime.now(UTC),
                    "language": language.value if language else None,
                    "email": email,
                    "duty": duty,
                }
            ],
        )
        append_event(
            conn,
            EventType.OFFICER_CREATED,
            "operator",
            {"officer": officer.id, "agency": agency, "roles": ",".join(sorted(roles))},
        )
    return officer


def issue_token(node: Node, attempt: SignInAttempt, password: str, ttl_s: float | None = None) -> IssuedToken:
    """Sign in for a bearer token: throttled before the password is hashed; a wrong password is counted (never
    logged with the name typed), a right one gets a token and an event in the ledger."""
    row, charge = _verified_row(node, attempt, password)
    with node.engine.begin() as conn:
        settle_success(conn, charge)
        return _issue(node, conn, row, ttl_s)


def _issue(node: Node, conn: Connection, row: Any, ttl_s: float | None) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = node.clock.now()
    expires = now + timedelta(seconds=ttl_s or node.settings.token_ttl_s)
    conn.execute(delete(access_tokens).where(access_tokens.c.expires_at < now))
    conn.execute(
        insert(access_tokens),
        [{"token_sha256": sha256_hex(token.encode()), "officer_id": row.id, "issued_at": now, "expires_at": expires}],
    )
    append_event(conn, EventType.OFFICER_SIGNED_IN, row.id, {"officer": row.id})
    return IssuedToken(token, expires, Language(row.language) if row.language else None)


def revoke_token(conn: Connection, token: str) -> None:
    conn.execute(delete(access_tokens).where(access_tokens.c.token_sha256 == sha256_hex(token.encode())))


def revoke_session(node: Node, token: str) -> None:
    """Sign out: the session's token stops working at once, on every process of the node."""
    with node.engine.begin() as conn:
        revoke_token(conn, token)


@dataclass(frozen=True, slots=True)
class ListedOfficer:
    display_name: str
    agency: str
    roles: str  # as stored: comma-separated
    is_sample: bool


def list_active_officers(node: Node) -> list[ListedOfficer]:
    """The active officer accounts of this node, by agency and name, as the directory shows them."""
    o = officers.c
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(o.display_name, o.agency, o.roles, o.is_sample)
            .where(o.active.is_(True))
            .order_by(o.agency, o.display_name)
        ).all()
    return [ListedOfficer(r.display_name, r.agency, r.roles, bool(r.is_sample)) for r in rows]


def authenticate_password(node: Node, attempt: SignInAttempt, password: str) -> Officer:
    """The active officer whose password this is (HTTP Basic for tools), throttled as signing in is; no token and no
    ledger event, since a tool sends its password with every request."""
    row, charge = _verified_row(node, attempt, password)
    with node.engine.begin() as conn:
        settle_success(conn, charge)
    return officer_from_row(row)


def _verified_row(node: Node, attempt: SignInAttempt, password: str) -> tuple[Any, Charge]:
    """The officer row whose password this is, with the failure charged before it was checked (to be refunded);
    the same time whether the name is known or not."""
    row = None
    if "\x00" not in attempt.username:  # no account has one, and PostgreSQL takes no NUL in a string
        with node.engine.connect() as conn:
            row = conn.execute(select(officers).where(officers.c.username == attempt.username)).first()
    charge = admit_sign_in(node, attempt, row.id if row is not None else None)
    matches = password_matches(row.password_hash if row is not None else None, password)
    if row is not None and row.active and matches:
        return row, charge
    settle_failure(node, charge)
    raise AuthenticationFailed(_("wrong username or password"))


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Verified at the cost the stored hash names; with no hash (no such officer), against a dummy one all the same."""
    try:
        return _verifier.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except VerificationError:
        return False


def officer_for_token(conn: Connection, token: str) -> Officer:
    officer, _ = _token_holder(conn, token, datetime.now(UTC))
    return officer


# A web session's expiry moves forward on use, but at most about once a minute (a quarter of the idle time if that
# is shorter): a page view or a poll is not a write.
_SESSION_REFRESH_S = 60.0


def officer_for_session(node: Node, token: str) -> Officer:
    """The officer a web session belongs to; using it keeps it alive for the node's idle time, by the node's clock."""
    idle_s = node.settings.web_idle_timeout_s
    now = node.clock.now()
    with node.engine.connect() as conn:
        officer, expires_at = _token_holder(conn, token, now)
    if expires_at - now < timedelta(seconds=idle_s - min(_SESSION_REFRESH_S, idle_s / 4)):
        with node.engine.begin() as conn:
            conn.execute(
                update(access_tokens)
                .where(access_tokens.c.token_sha256 == sha256_hex(token.encode()))
                .values(expires_at=now + timedelta(seconds=idle_s))
            )
    return officer


def _token_holder(conn: Connection, token: str, now: datetime) -> tuple[Officer, datetime]:
    row = conn.execute(
        select(officers, access_tokens.c.expires_at)
        .join(access_tokens, access_tokens.c.officer_id == officers.c.id)
        .where(access_tokens.c.token_sha256 == sha256_hex(token.encode()))
    ).first()
    if row is None or row.expires_at < now or not row.active:
        raise AuthenticationFailed(_("the bearer token is unknown or expired; sign in again at /api/v1/token"))
    return officer_from_row(row), row.expires_at


def officer_from_row(row: Any) -> Officer:
    return Officer(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        party=Party(row.party),
        agency=row.agency,
        roles=frozenset(Role(r) for r in row.roles.split(",")),
        clearance=CommonLevel(row.clearance),
        focus_areas=tuple(a for a in row.focus_areas.split(",") if a),
        email=row.email,
        duty=bool(row.duty),
        language=Language(row.language) if row.language else None,
        time_zone=row.time_zone,
    )


def set_officer_language(node: Node, officer: Officer, language: Language | None) -> Officer:
    """The language the officer reads Accord in (None: the node's default), kept for every way they sign in."""
    with node.engine.begin() as conn:
        conn.execute(
            update(officers).where(officers.c.id == officer.id).values(language=language.value if language else None)
        )
    return dataclasses.replace(officer, language=language)


def set_officer_zone(node: Node, officer: Officer, zone: str | None) -> Officer:
    """The time zone the officer reads times in (None: the node's); an unknown zone is refused, nothing stored."""
    if zone is not None:
        try:
            zone = parse_zone(zone).key
        except ValueError:
            raise InvalidInput(
                _("unknown time zone {zone!r}; give an IANA name such as America/Toronto or Asia/Kolkata").format(
                    zone=zone
                )
            ) from None
    with node.engine.begin() as conn:
        conn.execute(update(officers).where(officers.c.id == officer.id).values(time_zone=zone))
    return dataclasses.replace(officer, time_zone=zone)


def officer_by_username(conn: Connection, username: str) -> Officer | None:
    """The active officer account `username`, or None."""
    row = conn.execute(select(officers).where(officers.c.username == username)).first()
    return officer_from_row(row) if row is not None and row.active else None


def set_officer_email(node: Node, officer: Officer, address: str | None) -> Officer:
    """Where notifications reach the officer by mail (None: in the app only); checked before anything is stored."""
    email = checked_email(address) if address is not None else None
    with node.engine.begin() as conn:
        conn.execute(update(officers).where(officers.c.id == officer.id).values(email=email))
    return dataclasses.replace(officer, email=email)


def set_officer_duty(node: Node, officer: Officer, duty: bool) -> Officer:
    """Put the officer on or off duty: on duty, they are told of what arrives for their agency (the notification
    rules for duty officers)."""
    with node.engine.begin() as conn:
        conn.execute(update(officers).where(officers.c.id == officer.id).values(duty=duty))
    return dataclasses.replace(officer, duty=duty)
