"""The node's clock: the system clock in UTC, or, in test suites only, the system clock run ahead by the seconds an
operator writes to a file, so that a test lets a session idle out without waiting for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from accord.errors import ConfigurationError
from accord.i18n import _

log = structlog.get_logger(__name__)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OffsetClock:
    """The system clock plus the seconds written in `offset_file` (none while there is no file). Only a setting
    given when the process starts makes a node use it; nothing a request carries can."""

    offset_file: Path

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_s())

    def offset_s(self) -> float:
        try:
            text = self.offset_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0.0
        try:
            return float(text)
        except ValueError as exc:
            raise ConfigurationError(
                _("{offset_file} must hold a number of seconds, not {text!r}").format(
                    offset_file=self.offset_file, text=text[:40]
                )
            ) from exc


def clock_for(offset_file: Path | None) -> Clock:
    """The system clock, unless the node's settings name an offset file (test suites only)."""
    if offset_file is None:
        return SystemClock()
    log.warning("clock.offset_file_in_use", file=str(offset_file), note="for test suites only")
    return OffsetClock(offset_file)


def move_clock(offset_file: Path, by_s: float) -> None:
    """Run a node's offset clock `by_s` seconds further ahead (written whole, so the node never reads half of it)."""
    ahead = OffsetClock(offset_file).offset_s() + by_s
    partial = offset_file.with_name(offset_file.name + ".new")
    partial.write_text(repr(ahead), encoding="utf-8")
    partial.replace(offset_file)
