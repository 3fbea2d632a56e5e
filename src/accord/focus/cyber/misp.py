"""MISP interoperability: a MISP event to a STIX 2.1 bundle and back, through misp-stix, with TLP 2.0 markings.

Nothing here streams. MISP's JSON export and misp-stix both work on whole events: the parser loads the event into
pymisp objects and builds every STIX object before the bundle exists, and the STIX side loads the whole bundle into
`stix2` objects before a single MISP attribute is made. misp-stix puts the cost at 2 to 7 times the document's size
in memory and a few seconds of CPU per megabyte of STIX, so a document is refused above `MAX_DOCUMENT_BYTES` (the
default limit misp-stix applies to its own input) before it is parsed. What a round trip MISP → STIX → MISP keeps
and loses is misp-stix's doing, listed at `convert_stix_bundle`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from misp_stix_converter import (
    InvalidMISPInputError,
    MISP_org_uuid,
    MISPtoSTIX21Parser,
    MissingSTIXContentError,
    STIXLoadingError,
)
from misp_stix_converter.tools import get_stix2_parser, is_stix2_from_misp, load_stix2_content
from stix2.exceptions import STIXError

from accord.domain.handling import Tlp
from accord.errors import InvalidInput, PayloadTooLarge
from accord.focus.cyber.tlp import TLP_ORDER, strictest, tlp_definitions
from accord.i18n import _

# misp-stix's default limit on the documents it converts (misp_stix_converter/tools/input_limits.py).
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024

# The MISP `tlp` taxonomy's TLP 2.0 tag names.
MISP_TLP_TAGS: Mapping[Tlp, str] = {
    Tlp.CLEAR: "tlp:clear",
    Tlp.GREEN: "tlp:green",
    Tlp.AMBER: "tlp:amber",
    Tlp.AMBER_STRICT: "tlp:amber+strict",
    Tlp.RED: "tlp:red",
}
# Every tag name MISP has used for a level: TLP 1.0's `tlp:white` is TLP 2.0's CLEAR.
_TAG_LEVELS: Mapping[str, Tlp] = {"tlp:white": Tlp.CLEAR} | {tag: level for level, tag in MISP_TLP_TAGS.items()}

# Labels misp-stix writes on every report it makes from an event; its importer turns them back into event tags.
# They say which tool converted the event, not what its originator tagged it with.
_CONVERTER_TAGS = frozenset({"Threat-Report", 'misp:tool="MISP-STIX-Converter"', 'misp:tool="misp2stix2"'})

# MISP objects misp-stix writes into another one's STIX object rather than their own: a pe object and its sections
# into the file's windows-pebinary-ext, a registry-key-value into its registry-key (MISPtoSTIX2Parser
# `_resolve_objects_to_parse`).
_FOLDED_OBJECTS = frozenset({"pe", "pe-section", "registry-key-value"})

# What misp-stix and stix2 raise on content they cannot read; anything else is a fault of ours and is not caught.
_UNREADABLE = (
    InvalidMISPInputError,
    MissingSTIXContentError,
    STIXLoadingError,
    STIXError,
    KeyError,
    TypeError,
    ValueError,
)

_NOTE_LENGTH = 300

# misp-stix and pymisp log what misp-stix also records in the parser's diagnostics, which reach the user as notes or
# errors; without a handler logging's last resort would print each on stderr a second time.
for _library in ("misp_stix_converter", "pymisp"):
    logging.getLogger(_library).addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converted document: a STIX bundle or a MISP event (`{"Event": {...}}`), with what it holds."""

    document: dict[str, Any]
    tlp: Tlp | None  # the strictest TLP the content is marked with; None when nothing carries one
    attributes: int  # the MISP event's attributes outside objects
    objects: int  # the MISP event's objects
    stix_objects: int  # the bundle's objects
    notes: tuple[str, ...]  # misp-stix's warnings: what it converted in a way worth knowing
    title: str | None = None  # the MISP event's `info`, for a MISP → STIX conversion


def read_json(content: bytes, what: str) -> Any:
    """The JSON document `content` holds; `what` names it in the error ("MISP event", "STIX bundle")."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(
            _(
                "the {what} has {count:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are converted at once "
                "(misp-stix holds the whole document in memory)"
            ).format(what=what, count=len(content), MAX_DOCUMENT_BYTES=MAX_DOCUMENT_BYTES)
        )
    try:
        return json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(_("the {what} is not JSON: {exc}").format(what=what, exc=exc)) from exc


# ---- MISP → STIX


def misp_to_bundle(event: Mapping[str, Any]) -> dict[str, Any]:
    """The STIX 2.1 bundle of a MISP event; see `convert_misp_event`."""
    return convert_misp_event(event).document


def convert_misp_event(document: Mapping[str, Any]) -> Conversion:
    """Convert a MISP event, as MISP exports it (`{"Event": {...}}`) or bare, with misp-stix's MISP → STIX 2.1 parser.

    The event's creator organisation (Orgc) becomes the identity every object is created by. Every TLP marking uses
    the TLP 2.0 marking definitions, which the bundle carries: misp-stix writes TLP 1.0 ids for white, green, amber
    and red. The event's TLP tag marks the report misp-stix makes of the event; it is put on every other object that
    has no TLP of its own as well, since in MISP an event's tag covers all it holds and a STIX consumer judges each
    object by its own markings. Raises InvalidInput when the document is not one MISP event with content, or when
    misp-stix cannot convert all of it (nothing half-converted is handed on)."""
    event = _plain_json(_misp_event_of(document), "MISP event")
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event({"Event": event})
        bundle = json.loads(parser.bundle.serialize())
    except _UNREADABLE as exc:
        raise InvalidInput(_("misp-stix cannot read the MISP event: {exc}").format(exc=exc)) from exc
    notes = _diagnostics(parser, "the MISP event")
    left_out = _left_out(event, bundle["objects"])
    if left_out:
        raise InvalidInput(
            _("misp-stix left out {left_out} of the MISP event{notes}").format(
                left_out=", ".join(left_out), notes=f" ({'; '.join(notes)})" if notes else ""
            )
        )
    event_tlp = strictest(_TAG_LEVELS[n] for n in _tag_names(event) if n in _TAG_LEVELS)
    bundle["objects"] = with_tlp2_markings(bundle["objects"], unmarked=event_tlp)
    return Conversion(
        document=bundle,
        tlp=_strictest_marking(bundle["objects"]),
        attributes=len(event.get("Attribute") or []),
        objects=len(event.get("Object") or []),
        stix_objects=len(bundle["objects"]),
        notes=notes,
        title=str(event["info"]),
    )


def _misp_event_of(document: object) -> Mapping[str, Any]:
    if isinstance(document, list) or (isinstance(document, Mapping) and "response" in document):
        raise InvalidInput(_("the file holds a list of MISP events; export and convert one event at a time"))
    if not isinstance(document, Mapping):
        raise InvalidInput(_("not a MISP event: the JSON is not an object"))
    if document.get("type") == "bundle":
        raise InvalidInput(_("this is a STIX bundle, not a MISP event; convert it with `accord cyber stix-to-misp`"))
    event = document.get("Event", document if "info" in document else None)
    if not isinstance(event, Mapping) or not isinstance(event.get("info"), str):
        raise InvalidInput(
            _('not a MISP event: expected {{"Event": {{...}}}} as MISP exports it, or a bare event with its "info"')
        )
    for key in ("Attribute", "Object"):
        records = event.get(key) or []
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise InvalidInput(
                _('the MISP event\'s "{key}" is not a list of {lower}s').format(key=key, lower=key.lower())
            )
    if not event.get("Attribute") and not event.get("Object"):
        raise InvalidInput(_("the MISP event has no Attribute and no Object: there is nothing to convert"))
    orgc = event.get("Orgc")
    if not isinstance(orgc, Mapping) or not all(isinstance(orgc.get(k), str) and orgc[k] for k in ("name", "uuid")):
        raise InvalidInput(
            _(
                "the MISP event has no Orgc with a name and uuid: the organisation that created it must "
                "be known before it is shared; export it from MISP with its organisation fields"
            )
        )
    return event


def _left_out(event: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """The event's attributes and objects the bundle has no object for: misp-stix names each STIX object it makes
    after the record's uuid, and skips a record pymisp's validation refuses with no more than a warning."""
    made = {str(stix_object["id"]).split("--", 1)[-1] for stix_object in objects}
    attributes = [a for a in event.get("Attribute") or [] if isinstance(a.get("uuid"), str)]
    misp_objects = [o for o in event.get("Object") or [] if isinstance(o.get("uuid"), str)]
    return [f"the {a.get('type')} attribute {a['uuid']}" for a in attributes if a["uuid"] not in made] + [
        f"the {o.get('name')} object {o['uuid']}"
        for o in misp_objects
        if o["uuid"] not in made and o.get("name") not in _FOLDED_OBJECTS
    ]


def _tag_names(layer: Mapping[str, Any]) -> Iterable[str]:
    return (str(tag["name"]).lower() for tag in layer.get("Tag") or [] if isinstance(tag, Mapping) and "name" in tag)


# ---- STIX → MISP


def bundle_to_misp(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The MISP event (`{"Event": {...}}`) of a STIX 2.1 bundle; see `convert_stix_bundle`."""
    return convert_stix_bundle(bundle).document


def convert_stix_bundle(document: Mapping[str, Any]) -> Conversion:
    """Convert a STIX 2.1 bundle into one MISP event with misp-stix's STIX → MISP parsers.

    misp-stix picks the parser: the internal one for a bundle misp-stix made from a MISP event (its report carries
    the `misp:tool="MISP-STIX-Converter"` label), which restores attributes and objects as they were; the external
    one for any other bundle, which maps STIX objects onto MISP attributes, objects and galaxies. TLP markings, TLP
    1.0 ids included, become the TLP 2.0 tags of MISP's `tlp` taxonomy (tlp:clear, tlp:green, tlp:amber,
    tlp:amber+strict, tlp:red). The organisation that created the report becomes the event's Orgc. The event's
    distribution is 0 (this organisation only), for whoever imports it to widen.

    For an event that came from MISP the round trip keeps: the event's uuid, info, timestamp, tags (the TLP tag
    included) and galaxy clusters, its published flag and publish_timestamp; every attribute's uuid, type, value,
    category, to_ids and tags; every object's uuid, name, meta-category, template uuid and its attributes' relation,
    type and value. misp-stix loses: the event's date, threat level, analysis, distribution and owner Org; the
    comments of attributes and objects (except on attributes it writes as x-misp-attribute objects); the uuids of
    the attributes inside most objects (new ones are derived); the category of the attributes inside objects (the
    template's default comes back); a false to_ids on the ip and domain of domain-ip and ip-port objects (true comes
    back); an ip-port object's `ip` relation (it comes back as `ip-dst`); the published flag of an event published
    in the second it was last modified. It adds a `misp-galaxy:producer` tag naming the creator; the converter's
    own labels (Threat-Report, misp:tool) are not made tags. Raises InvalidInput when the document is not a STIX 2.1
    bundle with objects, or when misp-stix reports an error converting it."""
    _check_bundle(document)
    bundle = _plain_json(document, "STIX bundle")
    objects = with_tlp2_markings(bundle["objects"])
    from_misp = bool(is_stix2_from_misp(objects))
    parser_class, arguments = get_stix2_parser(
        from_misp,
        0,  # distribution: this organisation only
        None,  # sharing group
        None,  # title: the report's name
        None,  # producer: the bundle's creator
        False,  # force_contextual_data
        False,  # galaxies_as_tags
        True,  # single_event: one bundle, one event
        MISP_org_uuid,
        0,  # cluster distribution
        None,  # cluster sharing group
    )
    # The parser is misp-stix's own choice from the content; `record_classification` is not called, as the note it
    # records asks the caller (this function) to make that choice explicit, which is no help to whoever reads it.
    parser = parser_class()
    try:
        parser.load_stix_bundle(load_stix2_content({**bundle, "objects": objects}))
        parser.parse_stix_bundle(**arguments)
        event = json.loads(parser.misp_event.to_json())
    except _UNREADABLE as exc:
        raise InvalidInput(_("misp-stix cannot read the STIX bundle: {exc}").format(exc=exc)) from exc
    notes = _diagnostics(parser, "the STIX bundle")
    event["Tag"] = [tag for tag in event.get("Tag") or [] if tag.get("name") not in _CONVERTER_TAGS]
    orgc = _creator_of(objects)
    if orgc is not None:
        event["Orgc"] = orgc
    return Conversion(
        document={"Event": event},
        tlp=strictest(_TAG_LEVELS[name] for name in _tag_names(event) if name in _TAG_LEVELS),
        attributes=len(event.get("Attribute") or []),
        objects=len(event.get("Object") or []),
        stix_objects=len(objects),
        notes=notes,
    )


def _check_bundle(document: object) -> None:
    if not isinstance(document, Mapping):
        raise InvalidInput(_("not a STIX bundle: the JSON is not an object"))
    if "Event" in document or "info" in document:
        raise InvalidInput(_("this is a MISP event, not a STIX bundle; convert it with `accord cyber misp-to-stix`"))
    if document.get("type") != "bundle":
        raise InvalidInput(_('not a STIX bundle: it has no "type": "bundle"'))
    if "spec_version" in document:
        raise InvalidInput(_("a STIX 2.0 bundle (it has a spec_version of its own); Accord reads STIX 2.1 bundles"))
    objects = document.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InvalidInput(_("the STIX bundle has no objects: there is nothing to convert"))
    for index, stix_object in enumerate(objects):
        if not isinstance(stix_object, Mapping) or not all(isinstance(stix_object.get(k), str) for k in ("type", "id")):
            raise InvalidInput(_("object {index} of the STIX bundle has no type or no id").format(index=index))
        if stix_object.get("spec_version", "2.1") != "2.1":
            raise InvalidInput(
                _("{id} is STIX {spec_version}; Accord reads STIX 2.1").format(
                    id=stix_object["id"], spec_version=stix_object["spec_version"]
                )
            )


def _creator_of(objects: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
    """The organisation that made the event: the one identity the reports (else all objects) are created by."""
    containers = [o for o in objects if o["type"] in ("report", "grouping")] or objects
    creators = {o["created_by_ref"] for o in containers if isinstance(o.get("created_by_ref"), str)}
    if len(creators) != 1:
        return None
    (creator,) = creators
    identity = next((o for o in objects if o["id"] == creator and isinstance(o.get("name"), str)), None)
    return None if identity is None else {"name": identity["name"], "uuid": creator.split("--", 1)[1]}


# ---- TLP and shared steps


def with_tlp2_markings(objects: Iterable[Mapping[str, Any]], unmarked: Tlp | None = None) -> list[dict[str, Any]]:
    """The objects with every TLP marking reference (TLP 1.0 or 2.0) made a TLP 2.0 one, `unmarked` put on each
    object with no TLP marking when given, and the TLP 2.0 marking definitions referenced: in place of the TLP
    definitions the objects came with, after the other objects."""
    definitions = tlp_definitions()

    def is_tlp_definition(stix_object: Mapping[str, Any]) -> bool:
        return stix_object.get("type") == "marking-definition" and definitions.of_marking(stix_object["id"]) is not None

    def tlp2(ref: Any) -> Any:
        level = definitions.of_marking(ref) if isinstance(ref, str) else None
        return ref if level is None else definitions.tlp2[level]

    marked: list[dict[str, Any]] = []
    for stix_object in objects:
        if is_tlp_definition(stix_object):
            continue
        result = dict(stix_object)
        refs = [tlp2(ref) for ref in stix_object.get("object_marking_refs") or []]
        has_tlp = any(definitions.of_marking(ref) for ref in refs if isinstance(ref, str))
        if unmarked is not None and not has_tlp and result.get("type") != "marking-definition":
            refs.append(definitions.tlp2[unmarked])
        if refs:
            result["object_marking_refs"] = list(dict.fromkeys(refs))
        if "granular_markings" in stix_object:
            result["granular_markings"] = [
                {**g, "marking_ref": tlp2(g.get("marking_ref"))} if isinstance(g, Mapping) else g
                for g in stix_object["granular_markings"]
            ]
        marked.append(result)
    used = {definitions.of_marking(ref) for o in marked for ref in _marking_refs(o)}
    return marked + [definitions.marking_definition(level) for level in TLP_ORDER if level in used]


def _marking_refs(stix_object: Mapping[str, Any]) -> Iterable[str]:
    yield from (r for r in stix_object.get("object_marking_refs") or [] if isinstance(r, str))
    for granular in stix_object.get("granular_markings") or []:
        if isinstance(granular, Mapping) and isinstance(granular.get("marking_ref"), str):
            yield granular["marking_ref"]


def _strictest_marking(objects: Iterable[Mapping[str, Any]]) -> Tlp | None:
    definitions = tlp_definitions()
    return strictest(
        level
        for stix_object in objects
        if stix_object.get("type") != "marking-definition"
        for ref in _marking_refs(stix_object)
        if (level := definitions.of_marking(ref)) is not None
    )


def _plain_json(document: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A copy of `document` made of plain JSON values, which pymisp and stix2 require (and may modify)."""
    try:
        plain: dict[str, Any] = json.loads(json.dumps(document))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(_("the {what} holds a value JSON cannot: {exc}").format(what=what, exc=exc)) from exc
    return plain


def _diagnostics(parser: Any, what: str) -> tuple[str, ...]:
    """misp-stix's warnings as notes; its errors, each a record it could not convert, as InvalidInput."""
    found = parser.diagnostics()
    errors = [_without_traceback(m) for messages in found["errors"].values() for m in messages]
    if errors:
        raise InvalidInput(
            _("misp-stix could not convert all of {what}: {errors}").format(what=what, errors="; ".join(errors))
        )
    return tuple(_without_traceback(m) for messages in found["warnings"].values() for m in messages)


def _without_traceback(message: str) -> str:
    # misp-stix puts the Python traceback between a record's name and the exception's text; the user needs neither
    # the frames nor the paths in them.
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    text = lines[0] if len(lines) < 2 else f"{lines[0]} {lines[-1]}"
    # pymisp's messages can list every attribute type MISP has
    return text if len(text) <= _NOTE_LENGTH else text[: _NOTE_LENGTH - 1] + "…"
