"""Password hashes: new ones at RFC 9106's recommended cost unless a test suite asks for argon2's least; a stored
hash is verified at the cost written in it, whichever profile made it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import extract_parameters, profiles
from sqlalchemy import create_engine, insert

from accord.config import PasswordHashing, Settings
from accord.directory.officers import authenticate_password, hash_password
from accord.domain.handling import CommonLevel
from accord.errors import AuthenticationFailed
from accord.store.tables import metadata, officers

PASSWORD = "correct-horse-battery-staple"


def test_a_node_hashes_new_passwords_at_the_production_cost_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACCORD_PASSWORD_HASHING", raising=False)  # the test suite sets it for its own nodes
    hashing = Settings().password_hashing
    assert hashing is PasswordHashing.PRODUCTION
    # RFC 9106 §4, second recommended option: Argon2id, t=3, p=4, m=64 MiB, 128-bit salt, 256-bit tag.
    assert extract_parameters(hash_password(PASSWORD, hashing)) == profiles.RFC_9106_LOW_MEMORY


def test_the_test_profile_lowers_only_the_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_PASSWORD_HASHING", "test")
    made = extract_parameters(hash_password(PASSWORD, Settings().password_hashing))
    production = profiles.RFC_9106_LOW_MEMORY
    assert (made.time_cost, made.memory_cost, made.parallelism) == (1, 8, 1)
    assert (made.type, made.version, made.salt_len, made.hash_len) == (
        production.type,
        production.version,
        production.salt_len,
        production.hash_len,
    )


@pytest.mark.parametrize("hashing", list(PasswordHashing))
def test_a_stored_hash_of_either_profile_is_verified_at_its_own_cost(hashing: PasswordHashing) -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(officers),
            [
                {
                    "id": "01a20000-0000-7000-8000-000000000001",
                    "username": "ca.rcmp",
                    "display_name": "ca.rcmp",
                    "party": "CA",
                    "agency": "RCMP",
                    "roles": "officer",
                    "clearance": CommonLevel.SECRET.value,
                    "focus_areas": "",
                    "password_hash": hash_password(PASSWORD, hashing),
                    "is_sample": False,
                    "active": True,
                    "created_at": datetime.now(UTC),
                }
            ],
        )
        assert authenticate_password(conn, "ca.rcmp", PASSWORD).username == "ca.rcmp"
        with pytest.raises(AuthenticationFailed):
            authenticate_password(conn, "ca.rcmp", PASSWORD + "!")
        with pytest.raises(AuthenticationFailed):
            authenticate_password(conn, "nobody", PASSWORD)
    engine.dispose()
