"""STIX objects checked in a pool of worker processes get the verdicts they get checked one by one in this process:
the same objects refused, for the same reasons, reported at the same positions."""

from __future__ import annotations

from typing import Any

from accord.domain.handling import Tlp
from accord.focus.cyber.checking import ObjectChecker
from accord.focus.cyber.validation import check_object
from tests.stix_samples import indicator, ransomware_campaign, tlp2


def mixed_envelope() -> list[Any]:
    """Good objects with, among them, one of each way to fail: the cheap checks, the validator, stix2's parse."""
    good = [indicator(f"Scanner {n}", f"198.51.100.{n}", tlp2(Tlp.GREEN)) for n in range(1, 31)]
    objects: list[Any] = [*good[:10], *ransomware_campaign(), *good[10:]]
    objects[3] = {**good[3], "pattern": "[ipv4-addr:value = "}  # the validator: pattern syntax
    objects[5] = {key: value for key, value in good[5].items() if key != "created"}  # the validator: required
    objects[8] = {**good[8], "spec_version": "2.0"}  # cheap: the version
    objects[12] = "not an object"  # cheap: the shape
    objects[15] = {**good[15], "modified": "yesterday"}  # cheap: the timestamp
    objects[21] = {**good[21], "valid_until": "2000-01-01T00:00:00Z"}  # stix2: valid_until before valid_from
    objects[25] = {**good[25], "labels": "scanner"}  # the schema: a string for a list
    objects[-1] = {**good[-1], "confidence": 101}  # the schema: out of range
    return objects


def test_checks_spread_over_worker_processes_give_the_verdicts_of_checks_one_by_one() -> None:
    objects = mixed_envelope()
    one_by_one = [check_object(position, stix) for position, stix in enumerate(objects)]
    assert sum(not item.ok for item in one_by_one) == 8

    with ObjectChecker(workers=2, parallel_from=1) as checker:
        spread = checker.check(objects).items
        again = checker.check(reversed(objects)).items  # the same pool, kept between batches
    assert list(spread) == one_by_one
    assert [item.errors for item in again] == [item.errors for item in reversed(one_by_one)]


def test_objects_known_to_be_valid_skip_the_library_checks_but_not_the_cheap_ones() -> None:
    objects = mixed_envelope()
    with ObjectChecker(workers=1) as checker:
        checked = checker.submit(list(enumerate(objects)), known_valid={3, 12}).result().items
    assert checked[3].ok, "held as it is: not checked again"
    assert checked[12].errors == ("not a JSON object",), "the cheap checks still run"
    assert [item.errors for item in checked[4:12]] == [check_object(n, objects[n]).errors for n in range(4, 12)]
