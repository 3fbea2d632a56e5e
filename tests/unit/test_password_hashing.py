"""Password hashes: new ones at RFC 9106's recommended cost unless a test suite asks for argon2's least; a stored
hash is verified at the cost written in it, whichever profile made it."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters, profiles

from accord.config import PasswordHashing, Settings
from accord.directory.officers import hash_password, password_matches

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
    stored = hash_password(PASSWORD, hashing)
    assert password_matches(stored, PASSWORD)
    assert not password_matches(stored, PASSWORD + "!")
    assert not password_matches(None, PASSWORD), "no such officer: checked against the dummy hash, and refused"
