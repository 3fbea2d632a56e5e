"""What the capabilities of a node plug in (message kinds, indicators), keyed by typed slots the consumers define.

The composition root fills a `Registry` once at start-up by calling each capability's `register(registry)`; the code
that uses a slot (the exchange for message kinds, the work plan for indicators) defines the slot and its protocol,
so this module knows none of them and the registering module never edits the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from accord.i18n import _

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Slot(Generic[T]):
    """A named place in the registry holding entries of one type, each under a unique key."""

    name: str


class DuplicateRegistration(ValueError):
    """Two capabilities claimed the same key of a slot: a programming error, found at start-up."""


@dataclass(slots=True)
class Registry:
    _entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, slot: Slot[T], key: str, entry: T) -> None:
        entries = self._entries.setdefault(slot.name, {})
        if key in entries:
            raise DuplicateRegistration(_("{name} {key!r} is registered twice").format(name=slot.name, key=key))
        entries[key] = entry

    def get(self, slot: Slot[T], key: str) -> T | None:
        entry: T | None = self._entries.get(slot.name, {}).get(key)
        return entry

    def all(self, slot: Slot[T]) -> list[T]:
        """Every entry of the slot, in registration order."""
        return list(self._entries.get(slot.name, {}).values())

    def keys(self, slot: Slot[T]) -> list[str]:
        return list(self._entries.get(slot.name, {}))
