"""Times as each reader reads them: in their zone, with the zone named; both parties' zones from the agreement."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.i18n.zones import format_moment, parse_zone, process_zone, zone_or_none, zone_scope

WINTER = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "moment", "shown"),
    [
        ("America/Toronto", WINTER, "2026-01-15 12:00 EST"),
        ("America/Toronto", SUMMER, "2026-07-15 13:00 EDT"),  # summer time, named as such
        ("Asia/Kolkata", WINTER, "2026-01-15 22:30 IST"),
        ("Asia/Kathmandu", WINTER, "2026-01-15 22:45 UTC+05:45"),  # a zone the database gives no letters
        ("UTC", WINTER, "2026-01-15 17:00 UTC"),
    ],
)
def test_a_moment_is_shown_in_the_reader_s_zone_with_the_zone_named(zone: str, moment: datetime, shown: str) -> None:
    with zone_scope(ZoneInfo(zone)):
        assert format_moment(moment) == shown


def test_a_naive_moment_is_read_as_utc_as_it_is_stored() -> None:
    with zone_scope(ZoneInfo("Asia/Kolkata")):
        assert format_moment(datetime(2026, 1, 15, 17, 0)) == "2026-01-15 22:30 IST"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "EST5EDT,M3.2.0"])
def test_an_unknown_or_hostile_zone_name_is_refused_with_what_a_name_looks_like(name: str) -> None:
    with pytest.raises(ValueError, match="IANA name such as America/Toronto"):
        parse_zone(name)


@pytest.mark.parametrize("stored", [None, "", "Mars/Olympus"])
def test_a_stored_zone_that_is_missing_or_lost_leaves_the_reader_in_the_node_s_zone(stored: str | None) -> None:
    assert zone_or_none(stored) is None
    assert zone_or_none("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")


def test_the_process_zone_follows_accord_time_zone_then_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_TIME_ZONE", "Asia/Kolkata")
    monkeypatch.setenv("TZ", "America/Toronto")
    assert process_zone() == ZoneInfo("Asia/Kolkata")
    monkeypatch.delenv("ACCORD_TIME_ZONE")
    assert process_zone() == ZoneInfo("America/Toronto")
    monkeypatch.setenv("TZ", "nowhere")
    assert process_zone() == UTC


def test_the_agreement_gives_each_party_the_zone_of_its_seat_of_government() -> None:
    agreement = load_agreement()
    assert agreement.time_zone(Party.CA) == ZoneInfo("America/Toronto")
    assert agreement.time_zone(Party.IN) == ZoneInfo("Asia/Kolkata")
    # Ottawa and New Delhi are 10.5 hours apart in the northern winter, 9.5 in the summer.
    for moment, hours in ((WINTER, 10.5), (SUMMER, 9.5)):
        ottawa = moment.astimezone(agreement.time_zone(Party.CA)).utcoffset()
        delhi = moment.astimezone(agreement.time_zone(Party.IN)).utcoffset()
        assert ottawa is not None and delhi is not None
        assert (delhi - ottawa).total_seconds() / 3600 == hours
