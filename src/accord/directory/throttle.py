"""Sign-in throttling on every way in (API token, web sign-in, TAXII Basic): an exponential back-off per account and
per source address, decided before any password is hashed, and a lockout only an operator lifts. The state is in the
database, so that every process of a node sees the same. A failed sign-in is counted there, never written to the
ledger, and the name typed is kept nowhere: a name no account has is known only by a keyed hash."""

from __future__ import annotations

import dataclasses
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, Connection, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accord.config import Settings
from accord.errors import AccordError, AuthenticationFailed, ConfigurationError, NotFound
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import officers, sign_in_failures
from accord.trust.refusals import Endpoint, Refusal, count_refusals

log = structlog.get_logger("accord.sign_in")

_NAME_KEY_INFO = b"accord sign-in names v1"  # RFC 5869 `info`: this key is for nothing else
# Beyond this many failures past the free ones the wait is at its longest whatever the settings, so a count stops
# there; a row whose count has been forgotten to nothing by then is removed.
_DOUBLINGS = 64


class SignInThrottled(AccordError):
    """Too many failed sign-ins for the account or from the address: the next try must wait (RFC 6585 §4)."""

    status = 429
    slug = "sign-in-throttled"
    title = N_("Too many failed sign-ins")

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins for this account or from this address; try again in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s

    def extensions(self) -> dict[str, object]:
        return {"retry_after": self.retry_after_s}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}  # RFC 9110 §10.2.3, in delay-seconds


class SignInLocked(AccordError):
    """The account (or the name) failed too often: refused, the right password too, until an operator unlocks it."""

    status = 403
    slug = "sign-in-locked"
    title = N_("The account is locked")

    def __init__(self) -> None:
        super().__init__(
            "this account is locked after repeated failed sign-ins; an operator of this node can unlock it"
        )


class SubjectKind(StrEnum):
    ACCOUNT = "account"  # an officer account, by its id
    NAME = "name"  # a name no account has, by its keyed hash
    SOURCE = "source"  # a source address, as `accord.trust.refusals.source_address` gives it


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    key: str


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """One try at signing in: the name typed (never stored, never logged), where it came from and which way in."""

    username: str
    source: str
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Charge:
    """The failure charged to an attempt's account (or name) and source before its password is checked."""

    attempt: SignInAttempt
    account: Subject
    source: Subject
    new_rows: bool = False  # the charge made a row: if it stands, old rows are forgotten


@dataclass(frozen=True, slots=True)
class _Failures:
    failures: int
    last_failure_at: datetime
    locked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Unlocked:
    officer_id: str
    failures: int
    was_locked: bool


@dataclass(frozen=True, slots=True)
class LockedAccount:
    username: str
    failures: int
    locked_at: datetime


def admit_sign_in(node: Node, attempt: SignInAttempt, officer_id: str | None) -> Charge:
    """Before the password is hashed: refuse the attempt if its account, its name or its source is locked or must
    still wait (SignInThrottled, SignInLocked); otherwise charge each a failure now, so that tries running at the same
    time, on any process, see it before their hashes are computed. `settle_success` refunds it."""
    charge = _charge_for(node, attempt, officer_id)
    settings, now = node.settings, node.clock.now()
    with node.engine.begin() as conn:
        rows = _read(conn, (charge.account, charge.source), lock=True)
        refusal = _refusal(settings, rows, now)
        if refusal is None:
            for subject in (charge.account, charge.source):
                _add_failure(conn, settings, subject, rows.get(subject), now)
        else:
            count_refusals(conn, settings, [Refusal(attempt.endpoint, refusal.slug, attempt.source)], now)
    if refusal is not None:
        raise refusal
    return dataclasses.replace(charge, new_rows=len(rows) < 2)


def check_sign_in(node: Node, attempt: SignInAttempt, officer_id: str | None) -> None:
    """Whether a try may go ahead now, charging nothing: for a password this process verified a moment ago and
    remembers, so that the back-off and the lock hold for it too."""
    charge = _charge_for(node, attempt, officer_id)
    now = node.clock.now()
    with node.engine.connect() as conn:
        refusal = _refusal(node.settings, _read(conn, (charge.account, charge.source), lock=False), now)
    if refusal is not None:
        with node.engine.begin() as conn:
            count_refusals(conn, node.settings, [Refusal(attempt.endpoint, refusal.slug, attempt.source)], now)
        raise refusal


def settle_success(conn: Connection, charge: Charge) -> None:
    """The password was right: the account's failures are cleared, in the caller's transaction. The source only gets
    back the failure charged for this try: one colleague's success does not clear guesses made from the same
    address. An account locked meanwhile by a concurrent failure stays locked, and this sign-in is refused."""
    f = sign_in_failures.c
    locked = conn.scalar(select(f.locked_at).where(*_is(charge.account)).with_for_update())
    if locked is not None:
        raise SignInLocked()
    conn.execute(delete(sign_in_failures).where(*_is(charge.account)))
    conn.execute(update(sign_in_failures).where(*_is(charge.source), f.failures > 0).values(failures=f.failures - 1))
    conn.execute(delete(sign_in_failures).where(*_is(charge.source), f.failures <= 0))


def settle_failure(node: Node, charge: Charge) -> None:
    """The password was wrong: the failure charged stands, and is counted as a refusal. At
    `sign_in_lockout_failures` the account (or the name) is locked (SignInLocked); an account's lock is an event in
    the ledger, naming the account's id, never the name typed."""
    settings, now = node.settings, node.clock.now()
    f = sign_in_failures.c
    with node.engine.begin() as conn:
        row = conn.execute(select(f.failures, f.locked_at).where(*_is(charge.account)).with_for_update()).first()
        locks = row is not None and row.locked_at is None and row.failures >= settings.sign_in_lockout_failures
        if row is not None and locks:
            conn.execute(update(sign_in_failures).where(*_is(charge.account)).values(locked_at=now))
            if charge.account.kind is SubjectKind.ACCOUNT:
                refs: dict[str, str | int | None] = {"officer": charge.account.key, "failures": int(row.failures)}
                append_event(conn, EventType.OFFICER_LOCKED_OUT, node.node_id, refs)
                log.warning("account locked", officer=charge.account.key, failures=int(row.failures))
        problem = SignInLocked.slug if locks else AuthenticationFailed.slug
        count_refusals(conn, settings, [Refusal(charge.attempt.endpoint, problem, charge.attempt.source)], now)
    if charge.new_rows:  # rows stay only after failures: old ones go now, holding no row a sign-in may wait for
        _forget_old(node, now)
    if locks:
        raise SignInLocked()


def unlock_officer(node: Node, username: str, *, actor: str) -> Unlocked | None:
    """An operator (`actor` in the ledger) lifts the lock and the back-off of `username`'s account: logged in the
    ledger. None when the account had neither (nothing changes, nothing is logged)."""
    f = sign_in_failures.c
    with node.engine.begin() as conn:
        officer_id = conn.scalar(select(officers.c.id).where(officers.c.username == username))
        if officer_id is None:
            raise NotFound(
                _("no officer {username!r} on node {node_id}; see `accord officer add`").format(
                    username=username, node_id=node.node_id
                )
            )
        account = Subject(SubjectKind.ACCOUNT, officer_id)
        row = conn.execute(select(f.failures, f.locked_at).where(*_is(account)).with_for_update()).first()
        if row is None:
            return None
        conn.execute(delete(sign_in_failures).where(*_is(account)))
        unlocked = Unlocked(officer_id, int(row.failures), row.locked_at is not None)
        refs = {"officer": officer_id, "failures": unlocked.failures, "locked": int(unlocked.was_locked)}
        append_event(conn, EventType.OFFICER_UNLOCKED, actor, refs)
    return unlocked


def locked_accounts(node: Node) -> list[LockedAccount]:
    """The accounts locked after failed sign-ins, the longest locked first."""
    f = sign_in_failures.c
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(officers.c.username, f.failures, f.locked_at)
            .join(officers, officers.c.id == f.subject)
            .where(f.subject_kind == SubjectKind.ACCOUNT.value, f.locked_at.is_not(None))
            .order_by(f.locked_at, officers.c.username)
        ).all()
    return [LockedAccount(r.username, int(r.failures), r.locked_at) for r in rows]


# --- the rules ------------------------------------------------------------------------------------------------------


def _free_failures(settings: Settings, kind: SubjectKind) -> int:
    if kind is SubjectKind.SOURCE:
        return settings.sign_in_source_free_failures
    return settings.sign_in_free_failures


def _wait_s(settings: Settings, kind: SubjectKind, state: _Failures, now: datetime) -> float:
    """Seconds before the next try: none while failures are free; then the back-off, doubling with each failure."""
    beyond = state.failures - _free_failures(settings, kind)
    if beyond < 0:
        return 0.0
    delay = min(settings.sign_in_backoff_s * 2.0 ** min(beyond, _DOUBLINGS), settings.sign_in_backoff_max_s)
    return max(0.0, delay - (now - state.last_failure_at).total_seconds())


def _remembered(settings: Settings, state: _Failures, now: datetime) -> int:
    """Failures still counted: one is forgotten for each `sign_in_forget_s` since the last."""
    forgotten = int((now - state.last_failure_at).total_seconds() // settings.sign_in_forget_s)
    return max(0, state.failures - max(0, forgotten))


def _most_counted(settings: Settings) -> int:
    return max(settings.sign_in_lockout_failures, settings.sign_in_source_free_failures) + _DOUBLINGS


def _refusal(settings: Settings, rows: dict[Subject, _Failures], now: datetime) -> AccordError | None:
    if any(state.locked_at is not None for state in rows.values()):
        return SignInLocked()
    wait = max((_wait_s(settings, subject.kind, state, now) for subject, state in rows.items()), default=0.0)
    return SignInThrottled(max(1, math.ceil(wait))) if wait > 0 else None


# --- the rows -------------------------------------------------------------------------------------------------------


def _charge_for(node: Node, attempt: SignInAttempt, officer_id: str | None) -> Charge:
    if officer_id is not None:
        account = Subject(SubjectKind.ACCOUNT, officer_id)
    else:
        account = Subject(SubjectKind.NAME, _name_digest(node, attempt.username))
    return Charge(attempt, account, Subject(SubjectKind.SOURCE, attempt.source))


def _name_digest(node: Node, username: str) -> str:
    """HMAC-SHA256 of a name no account has, under a key derived (HKDF, RFC 5869) from the node's private signing key:
    the same in every process of the node, and a copy of the database alone does not give the names back."""
    private = node.keys.signing.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(_("the node's signing key has no private half; restore its key files"))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_NAME_KEY_INFO).derive(private.private_bytes_raw())
    return hmac.new(key, username.encode("utf-8", "surrogatepass"), "sha256").hexdigest()


def _is(subject: Subject) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    f = sign_in_failures.c
    return f.subject_kind == subject.kind.value, f.subject == subject.key


def _read(conn: Connection, subjects: Sequence[Subject], *, lock: bool) -> dict[Subject, _Failures]:
    f = sign_in_failures.c
    query = (
        select(f.subject_kind, f.subject, f.failures, f.last_failure_at, f.locked_at)
        .where(or_(*(and_(*_is(subject)) for subject in subjects)))
        .order_by(f.subject_kind, f.subject)  # PostgreSQL locks the rows in this order: one for every process
    )
    if lock:
        query = query.with_for_update()
    return {
        Subject(SubjectKind(r.subject_kind), r.subject): _Failures(int(r.failures), r.last_failure_at, r.locked_at)
        for r in conn.execute(query)
    }


def _add_failure(
    conn: Connection, settings: Settings, subject: Subject, state: _Failures | None, now: datetime
) -> None:
    f = sign_in_failures.c
    if state is not None:
        failures = min(_remembered(settings, state, now) + 1, _most_counted(settings))
        conn.execute(update(sign_in_failures).where(*_is(subject)).values(failures=failures, last_failure_at=now))
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(sign_in_failures)
        .values(subject_kind=subject.kind.value, subject=subject.key, failures=1, last_failure_at=now)
        # Another process made the row since we looked: add to it.
        .on_conflict_do_update(
            index_elements=[f.subject_kind, f.subject], set_={"failures": f.failures + 1, "last_failure_at": now}
        )
    )


def _forget_old(node: Node, now: datetime) -> None:
    """Remove the rows whose failures are all forgotten (a count never exceeds `_most_counted`); a locked account
    stays until an operator unlocks it."""
    f = sign_in_failures.c
    cutoff = now - timedelta(seconds=node.settings.sign_in_forget_s * _most_counted(node.settings))
    with node.engine.begin() as conn:
        conn.execute(
            delete(sign_in_failures).where(
                f.last_failure_at < cutoff,
                or_(f.subject_kind != SubjectKind.ACCOUNT.value, f.locked_at.is_(None)),
            )
        )
