"""TLP on STIX objects: the TLP 2.0 marking definitions, the TLP 1.0 ones recognised and mapped, the strictest
marking of an object or a bundle, the TLP an object that arrived in a share is held under, and the rule for an object
that carries none (data/cyber/tlp.yaml)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.datafiles import load
from accord.domain.handling import Tlp
from accord.errors import ConfigurationError
from accord.i18n import _

# Least to most restricted: a bundle is as restricted as its most restricted object.
TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


class TlpDefinitions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    extension: str
    created: str
    tlp2: dict[Tlp, str]
    tlp1: dict[str, Tlp]
    unmarked: Tlp

    def of_marking(self, marking_id: str) -> Tlp | None:
        """The TLP level a marking-definition id stands for (2.0 or 1.0), or None for any other marking."""
        return self.tlp1.get(marking_id) or next((lvl for lvl, ref in self.tlp2.items() if ref == marking_id), None)

    def marking_definition(self, level: Tlp) -> dict[str, Any]:
        """The TLP 2.0 marking-definition object for `level`, as a bundle carries it."""
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.tlp2[level],
            "created": self.created,
            "name": f"TLP:{level.value}",
            "extensions": {self.extension: {"extension_type": "property-extension", "tlp_2_0": level.value.lower()}},
        }


@cache
def tlp_definitions() -> TlpDefinitions:
    definitions = load(TlpDefinitions, "cyber", "tlp.yaml")
    if set(definitions.tlp2) != set(Tlp):
        raise ConfigurationError(_("data/cyber/tlp.yaml must give the id of every TLP 2.0 level"))
    return definitions


def strictest(levels: Iterable[Tlp]) -> Tlp | None:
    found = list(levels)
    return max(found, key=TLP_ORDER.index) if found else None


@dataclass(frozen=True, slots=True)
class ObjectTlp:
    level: Tlp
    marked: bool  # False: the object carried no TLP marking and the default rule gave the level


def object_tlp(stix_object: Mapping[str, Any]) -> ObjectTlp:
    """The strictest TLP among the object's markings (object-level and granular); the default when it has none."""
    definitions = tlp_definitions()
    refs = list(stix_object.get("object_marking_refs") or [])
    refs += [g.get("marking_ref") for g in stix_object.get("granular_markings") or [] if isinstance(g, Mapping)]
    if stix_object.get("type") == "marking-definition":
        own = definitions.of_marking(str(stix_object.get("id")))
        if own is not None:
            return ObjectTlp(Tlp.CLEAR, True)  # a TLP definition itself is public
    level = strictest(lvl for ref in refs if isinstance(ref, str) and (lvl := definitions.of_marking(ref)))
    return ObjectTlp(level, True) if level is not None else ObjectTlp(definitions.unmarked, False)


def held_tlp(stix_object: Mapping[str, Any], share_tlp: Tlp | None = None) -> ObjectTlp:
    """The TLP an object is held under: its own (or the default), and for one that arrived in a share never less
    restricted than the share (FIRST TLP 2.0: a recipient does not lower the label the source gave)."""
    own = object_tlp(stix_object)
    if share_tlp is None:
        return own
    return ObjectTlp(max(own.level, share_tlp, key=TLP_ORDER.index), own.marked)


def bundle_tlp(objects: Iterable[Mapping[str, Any]]) -> Tlp:
    level = strictest(object_tlp(o).level for o in objects)
    return level if level is not None else tlp_definitions().unmarked
