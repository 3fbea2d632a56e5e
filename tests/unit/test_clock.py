"""The node's clock: the system clock unless the settings name an offset file, which a test moves by writing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.clock import OffsetClock, SystemClock, clock_for, move_clock
from accord.config import Settings
from accord.errors import ConfigurationError


def test_a_node_keeps_the_system_clock_unless_its_settings_name_an_offset_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ACCORD_CLOCK_OFFSET_FILE", raising=False)
    assert isinstance(clock_for(Settings().clock_offset_file), SystemClock)
    monkeypatch.setenv("ACCORD_CLOCK_OFFSET_FILE", str(tmp_path / "offset"))
    assert clock_for(Settings().clock_offset_file) == OffsetClock(tmp_path / "offset")


def test_an_offset_clock_runs_ahead_by_what_was_written_and_no_more(tmp_path: Path) -> None:
    clock = OffsetClock(tmp_path / "offset")
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC), "no file: the system clock"
    move_clock(clock.offset_file, 1800)
    move_clock(clock.offset_file, 0.5)
    assert clock.offset_s() == 1800.5
    later = clock.now() - timedelta(seconds=1800.5)
    assert before <= later <= datetime.now(UTC)
    assert clock.now().tzinfo is UTC


def test_an_offset_file_that_is_not_a_number_stops_the_clock_with_what_to_fix(tmp_path: Path) -> None:
    (tmp_path / "offset").write_text("next tuesday", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must hold a number of seconds"):
        OffsetClock(tmp_path / "offset").now()
