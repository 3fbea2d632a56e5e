"""The shortcuts of the library checks (jsonschema-rs before jsonschema, a pattern parsed once for the validator's two
looks at it, each timestamp parsed once by dateutil) give every object the verdict and the messages the checks give
without them: a corpus of every STIX 2.1 object type, valid and broken in many ways, checked both ways."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from accord.focus.cyber import schema_check
from accord.focus.cyber.schema_precheck import PrecheckedValidator, plain_json, rust_regex, rust_schema
from accord.focus.cyber.validation import first_check, library_errors
from tests.stix_samples import ransomware_campaign

T0 = "2026-03-01T10:00:00.000Z"
T1 = "2026-03-02T11:30:00Z"
IDENTITY = "identity--0a1f6d60-7c2e-4a43-9b4f-5b2f3a0c9e11"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


def _id(kind: str, n: int) -> str:
    return f"{kind}--6f3f3e41-6c7a-4b1c-9d5e-{n:012x}"


def _sdo(kind: str, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": _id(kind, n),
        "created": T0,
        "modified": T0,
        "created_by_ref": IDENTITY,
        "object_marking_refs": [GREEN],
        **fields,
    }


def _sco(kind: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": _id(kind, n), **fields}


def corpus() -> list[dict[str, Any]]:
    """One or more valid objects of every STIX 2.1 SDO, SRO and SCO type, a language content, an extension
    definition, custom objects and properties, and the test suite's ransomware campaign."""
    indicator = _sdo(
        "indicator",
        1,
        name="C2",
        indicator_types=["malicious-activity"],
        pattern="[ipv4-addr:value = '198.51.100.23']",
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=T0,
        confidence=80,
        labels=["c2"],
    )
    patterns = [
        "[file:hashes.'SHA-256' = '" + SHA256 + "']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR [file:name = 'a.exe']",
        "[domain-name:value = 'example.net'] FOLLOWEDBY [url:value = 'https://example.net/x'] WITHIN 300 SECONDS",
        "[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']",
        "[email-message:from_ref.value MATCHES '.+@example\\\\.com$']",
        "[x-custom-thing:x_field = 'a'] REPEATS 2 TIMES",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'",
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Foo' AND windows-registry-key:values[0].name = 'x']",
        "[artifact:payload_bin = b'aGVsbG8=']",
        "[file:size > 1000 AND file:size <= 2000]",
    ]
    objects = [
        indicator,
        *[{**indicator, "id": _id("indicator", 100 + n), "pattern": p} for n, p in enumerate(patterns)],
        _sdo("attack-pattern", 2, name="Phishing", kill_chain_phases=[{"kill_chain_name": "k", "phase_name": "p"}]),
        _sdo("campaign", 3, name="Winter", first_seen=T0, last_seen=T1, objective="money"),
        _sdo("course-of-action", 4, name="Block", description="Block it."),
        _sdo("grouping", 5, name="G", context="suspicious-activity", object_refs=[_id("indicator", 1)]),
        _sdo("identity", 6, name="CCCS", identity_class="organization", sectors=["government"]),
        _sdo("incident", 7, name="Breach"),
        _sdo("infrastructure", 8, name="C2 net", infrastructure_types=["command-and-control"], first_seen=T0),
        _sdo("intrusion-set", 9, name="APT-X", aliases=["X"], first_seen=T0, goals=["g"]),
        _sdo("location", 10, latitude=45.42, longitude=-75.69, precision=10.0, country="CA", region="north-america"),
        _sdo("malware", 11, name="LockBit", is_family=True, malware_types=["ransomware"], first_seen=T0),
        _sdo(
            "malware-analysis",
            12,
            product="sandbox",
            result="malicious",
            analysis_started=T0,
            analysis_ended=T1,
            sample_ref=_id("file", 40),
        ),
        _sdo("note", 13, content="Seen twice.", authors=["analyst"], object_refs=[_id("malware", 11)]),
        _sdo(
            "observed-data",
            14,
            first_observed=T0,
            last_observed=T1,
            number_observed=3,
            object_refs=[_id("ipv4-addr", 34)],
        ),
        _sdo("opinion", 15, opinion="agree", object_refs=[_id("note", 13)], explanation="yes"),
        _sdo("report", 16, name="R", report_types=["threat-report"], published=T1, object_refs=[_id("malware", 11)]),
        _sdo("threat-actor", 17, name="TA", threat_actor_types=["crime-syndicate"], roles=["agent"]),
        _sdo("tool", 18, name="nmap", tool_types=["information-gathering"], tool_version="7"),
        _sdo(
            "vulnerability",
            19,
            name="CVE-2026-1234",
            external_references=[{"source_name": "cve", "external_id": "CVE-2026-1234"}],
        ),
        _sdo(
            "relationship",
            20,
            relationship_type="indicates",
            source_ref=_id("indicator", 1),
            target_ref=_id("malware", 11),
            start_time=T0,
            stop_time=T1,
        ),
        _sdo(
            "sighting",
            21,
            sighting_of_ref=_id("indicator", 1),
            observed_data_refs=[_id("observed-data", 14)],
            where_sighted_refs=[_id("identity", 6)],
            count=3,
            first_seen=T0,
            last_seen=T1,
        ),
        _sdo(
            "language-content",
            22,
            object_ref=_id("malware", 11),
            object_modified=T0,
            contents={"fr": {"name": "LockBit (fr)"}},
        ),
        {
            **_sdo(
                "extension-definition",
                23,
                name="x",
                schema="https://example.org/schema.json",
                version="1.0",
                extension_types=["property-extension"],
            ),
        },
        _sco("artifact", 30, mime_type="application/zip", payload_bin="aGVsbG8="),
        _sco("autonomous-system", 31, number=64500, name="AS", rir="ARIN"),
        _sco("directory", 32, path="C:\\Windows", ctime=T0),
        _sco("domain-name", 33, value="example.net"),
        _sco("ipv4-addr", 34, value="198.51.100.23"),
        _sco("ipv6-addr", 35, value="2001:db8::1"),
        _sco("mac-addr", 36, value="00:11:22:33:44:55"),
        _sco("email-addr", 37, value="a@example.com", display_name="A"),
        _sco(
            "email-message",
            38,
            is_multipart=False,
            subject="Invoice",
            date=T0,
            from_ref=_id("email-addr", 37),
            to_refs=[_id("email-addr", 37)],
            body="pay",
        ),
        _sco("mutex", 39, name="Global\\x"),
        _sco(
            "file", 40, name="a.exe", size=1024, hashes={"SHA-256": SHA256, "MD5": "d41d8cd98f00b204e9800998ecf8427e"}
        ),
        _sco(
            "network-traffic",
            41,
            src_ref=_id("ipv4-addr", 34),
            dst_port=443,
            protocols=["ipv4", "tcp"],
            start=T0,
            extensions={"tcp-ext": {"src_flags_hex": "00000002"}},
        ),
        _sco("process", 42, pid=1234, command_line="a.exe -x", created_time=T0),
        _sco(
            "software",
            43,
            name="Word",
            vendor="Microsoft",
            version="2019",
            cpe="cpe:2.3:a:microsoft:word:2019:*:*:*:*:*:*:*",
        ),
        _sco("url", 44, value="https://example.net/x"),
        _sco("user-account", 45, user_id="1001", account_login="bob", account_type="unix", account_created=T0),
        _sco(
            "windows-registry-key",
            46,
            key="HKEY_LOCAL_MACHINE\\Software",
            values=[{"name": "v", "data": "d", "data_type": "REG_SZ"}],
        ),
        _sco("x509-certificate", 47, serial_number="01", issuer="CN=x", validity_not_before=T0, validity_not_after=T1),
        _sco("x-custom-observable", 48, value="anything", x_extra=1),
        {**_sdo("x-acme-thing", 49, name="custom"), "x_acme_score": 3},
        {**_sdo("malware", 50, name="m", is_family=False), "x_acme_note": {"nested": [1, 2.5, None, True]}},
    ]
    objects.append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": _id("marking-definition", 60),
            "created": T0,
            "definition_type": "statement",
            "definition": {"statement": "Copyright"},
        }
    )
    return objects + ransomware_campaign()


_ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.0,
    101,
    2**70,
    float("nan"),
    float("inf"),
    "",
    "x",
    "a\n",
    "२०२६",
    [],
    ["x"],
    [1],
    {},
    {"a": 1},
]
_TURNS = 3
_BAD_TIMESTAMPS = [
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01 00:00:00Z",
    "2026-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00Z\n",
    "yesterday",
    "2025-01-01T00:00:00.000Z",
]
_BAD_IDS = [
    "indicator--not-a-uuid",
    "indicator--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10\n",
    "malware--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10",
    "indicator--6f3f3e41-6c7a-0b1c-9d5e-0c7d0a2b9f10",
    "indicator--٦f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10",
    "Indicator--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10",
]
_BAD_PATTERNS = [
    "[ipv4-addr:value = ",
    "ipv4-addr:value = '1.2.3.4'",
    "[ipv4-addr:value = '1.2.3.4'] AND",
    "[file:hashes.'SHA-256' = 'abc']",
    "[file:hashes.MD5 = 'zz']",
    "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[Bad_Type:value = 'x']",
    "[ipv4-addr:Value = 'x']",
    "[x:value = 'x']",
    "[ipv4-addr:value = '1.2.3.4'] START t'2026-01-01T00:00:00Z' STOP t'bad'",
    "",
    "[ipv4-addr:value = '\u00e9\u00e8']",
    "[ipv4-addr:value = '1.2.3.4']\n",
]


# Patterns of the shape `[type:property = 'string']`, which get the answer of that shape with a placeholder string.
_SHAPED_PATTERNS = [
    *(
        f"[{lhs} = '{value}']"
        for lhs in (
            "ipv4-addr:value",
            "domain-name:value",
            "url:value",
            "file:name",
            "email-addr:value",
            "network-traffic:extensions.tcp_ext",
            "x-acme-thing:x_field",
            "ipv4-addr:true",
            "ipv4-addr:AND",
            "ab:value",
            "ipv4-addr:va",
            "x-custom:Value_1",
            "file:parent_directory_ref.path",
            "software:cpe",
        )
        for value in ("", " ", "198.51.100.1", "a] OR [b:c = 'd", "x AND y", "t", ")(", "=", "~!@#$%^&*", "hashes")
    ),
    "[file:hashes.md5 = 'zz']",
    "[file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes.sha256 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[ipv4-addr:value = 'a\\'b']",
    "[ipv4-addr:value = 'é']",
    "[ipv4-addr:value='x']",
    "[ipv4-addr:value  = 'x']",
]


def test_patterns_of_one_shape_get_the_answers_each_gets_alone() -> None:
    indicator = corpus()[0]
    answers = set()
    for pattern in _SHAPED_PATTERNS:
        fast, reference = both_ways({**indicator, "pattern": pattern})
        assert fast == reference, pattern
        answers.add(bool(reference))
    assert answers == {True, False}


def mutations(stix: dict[str, Any], turn: int = 0) -> Iterator[dict[str, Any]]:
    """The object without each of its fields, with odd values in each, and with bad timestamps, ids, patterns,
    custom properties and extensions. The odd values take turns (`turn`): each is put in every field of a third of the
    corpus's objects, which keeps the test within seconds."""
    for key in stix:
        yield {k: v for k, v in stix.items() if k != key}
        for value in _ODD_VALUES[turn % _TURNS :: _TURNS]:
            yield {**stix, key: value}
    for key in ("created", "modified", "valid_from", "first_seen", "last_seen", "published", "date", "start"):
        if key in stix:
            for text in _BAD_TIMESTAMPS:
                yield {**stix, key: text}
    for text in _BAD_IDS:
        yield {**stix, "id": text}
    if stix.get("type") == "indicator":
        for text in _BAD_PATTERNS:
            yield {**stix, "pattern": text}
        yield {**stix, "pattern_version": "2.0"}
        yield {**stix, "valid_until": "2000-01-01T00:00:00Z"}
    for name, value in (("x_acme_ok", "v"), ("Bad-Name", 1), ("x", 1), ("x_name\n", 2), ("id ", 1)):
        yield {**stix, name: value}
    yield {**stix, "extensions": {"x-acme-ext": {"a": 1}}}
    yield {
        **stix,
        "extensions": {"extension-definition--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10": {"extension_type": "x"}},
    }
    yield {**stix, "granular_markings": [{"marking_ref": GREEN, "selectors": ["name"]}]}
    yield {**stix, "external_references": [{"source_name": "x", "url": "not a uri"}]}
    if "hashes" in stix:
        yield {**stix, "hashes": {"SHA-256": "abc"}}
        yield {**stix, "hashes": {"x-custom": "abc"}}


def _errors(stix: Any) -> list[str] | str:
    """What the library checks say, or (for what they do not expect) what they raise."""
    try:
        return library_errors(copy.deepcopy(stix))
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"


def both_ways(stix: Any) -> tuple[list[str] | str, list[str] | str]:
    fast = _errors(stix)
    with schema_check.reference_checks():
        reference = _errors(stix)
    return fast, reference


def test_the_corpus_is_valid_and_every_bundled_schema_is_prechecked() -> None:
    for stix in corpus():
        assert both_ways(stix) == ([], []), stix["id"]
    assert schema_check._validators
    for (path, _), validator in schema_check._validators.items():
        assert isinstance(validator, PrecheckedValidator), path


def test_every_mutation_gets_the_same_verdict_and_messages_both_ways() -> None:
    checked = refused = 0
    for turn, stix in enumerate(corpus()):
        for mutated in mutations(stix, turn):
            if not first_check(0, mutated).ok:
                continue  # refused before the libraries see it, whichever path
            fast, reference = both_ways(mutated)
            assert fast == reference, json.dumps(mutated, default=str)
            checked += 1
            refused += bool(reference)
    assert checked > 2000 and 0.2 < refused / checked < 0.95, (checked, refused)


def test_the_precheck_decides_the_valid_objects_and_leaves_the_others_to_jsonschema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[bool] = []
    original = PrecheckedValidator.iter_errors

    def counting(self: PrecheckedValidator, instance: Any) -> Iterator[Any]:
        errors = original(self, instance)
        asked.append(isinstance(errors, type(iter(()))))
        return errors

    monkeypatch.setattr(PrecheckedValidator, "iter_errors", counting)
    for stix in corpus()[:12]:
        library_errors(stix)
    assert asked and all(asked), "valid objects never reach jsonschema"


_PROBES = [
    "",
    "a",
    "\n",
    "x\n",
    "\n\n",
    "indicator--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10",
    "indicator--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10\n",
    "indicator--6f3f3e41-6c7a-4b1c-9d5e-0c7d0a2b9f10\n\n",
    "2026-03-01T10:00:00.000Z",
    "2026-03-01T10:00:00Z\n",
    "२०२६-03-01T10:00:00Z",
    "\U00011f50\U00011f51\U00011f52\U00011f53-03-01T10:00:00Z",  # digits newer than some Unicode tables
    "CVE-2026-1234",
    "CVE-२०२६-1234",
    "CAPEC-66",
    "198.51.100.23/24",
    "00:11:22:33:44:55",
    "aGVsbG8=",
    "SHA-256",
    "x_acme_score",
    "tlp",
    "statement",
    "cpe:2.3:a:microsoft:word:2019:*:*:*:*:*:*:*",
    "HKEY_LOCAL_MACHINE",
    "hklm\\x",
    "application/zip",
    "en-US",
    "x-acme-ext",
    "tcp-ext",
    "SO_REUSEADDR",
    "[ab]&&~--",
]


def _schema_regexes() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.add(value)
                if key == "patternProperties" and isinstance(value, dict):
                    found.update(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _uri, contents in schema_check._bundled_resources():
        walk(contents)
    return found


def test_each_schema_regex_matches_in_rust_what_it_matches_in_python() -> None:
    regexes = _schema_regexes()
    assert len(regexes) > 80
    for regex in regexes:
        rust = jsonschema_rs.Draft202012Validator(
            {"pattern": rust_regex(regex)}, pattern_options=jsonschema_rs.RegexOptions()
        )
        for probe in _PROBES + [probe + "\n" for probe in _PROBES]:
            assert rust.is_valid(probe) == bool(re.search(regex, probe)), (regex, probe)


@pytest.mark.parametrize("regex", ["a$b", "(a$)", "(?=a)", "\\w", "[]a]", "a\\", "[a--b]", "(?P<n>a)", "\\Z", "[a"])
def test_what_cannot_be_said_exactly_in_rust_is_refused(regex: str) -> None:
    with pytest.raises(ValueError):
        rust_regex(regex)


def test_only_plain_json_is_prechecked() -> None:
    assert plain_json({"a": [1, 2.5, "x", None, True, {"b": []}]})
    for odd in (float("nan"), float("inf"), 2**60, (1,), {1: "a"}, b"x", {"a": {1, 2}}):
        assert not plain_json({"a": odd}), odd


def test_rewritten_schemas_keep_data_as_it_is() -> None:
    schema = {
        "properties": {"pattern": {"type": "string", "pattern": "^a$"}},
        "enum": [{"pattern": "^a$"}],
        "patternProperties": {"^x_$": {"pattern": "b$"}},
    }
    assert rust_schema(schema) == {
        "properties": {"pattern": {"type": "string", "pattern": "^a(?:\\n?\\z)"}},
        "enum": [{"pattern": "^a$"}],
        "patternProperties": {"^x_(?:\\n?\\z)": {"pattern": "b(?:\\n?\\z)"}},
    }
