"""A Babel extraction method for the text an officer reads that lives in data files, not in code: the @remedy of the
policy packs' Cedar policies and the user-facing keys of the YAML data files. Babel's configuration names it
(`[extractors]`, `accord.i18n.extract:extract_data`); the code that shows these texts passes them through `_()`.

Pure: it reads the file it is given and nothing else, and imports nothing of Accord beyond this package."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml

# One message: (line, function name, message, translator comments). No function name: the message is its own
# whole argument, whatever keywords the extraction was given.
Extracted = tuple[int, str | None, str, list[str]]

# The keys that hold user-facing text, by data file (a glob on its path under accord/data); a `*` in a key path is
# any mapping key or list item. Every other key is code, an id, a citation, a source or a name with an official form
# (an agency's name_fr and name_hi), and is never extracted.
DATA_TEXTS: Mapping[str, tuple[str, ...]] = {
    # The agreement: its title, the parties' names, the focus areas, and the default work plan's objectives,
    # actions and milestones (an item an officer has since changed is shown as it was typed).
    "agreement/*.yaml": (
        "title",
        "parties.*",
        "focus_areas.*.name",
        "focus_areas.*.description",
        "work_plan.objectives.*.title",
        "work_plan.objectives.*.description",
        "work_plan.objectives.*.actions.*.title",
        "work_plan.objectives.*.actions.*.description",
        "work_plan.objectives.*.actions.*.milestones.*.title",
    ),
    # An agency's role in the work plan (its name has official forms in the file itself).
    "agencies/*.yaml": ("agencies.*.role",),
    # What each handling code means, read out in forward decisions and consent requests.
    "handling/caveats.yaml": ("caveats.*.text",),
    # What each notification rule tells of, on an officer's notification settings.
    "notifications/rules.yaml": ("rules.*.title", "rules.*.description"),
    # A pack's title and the questions an assessor of mistreatment risk answers (their `source` is a citation).
    "policy/*/manifest.yaml": ("title", "screens.mistreatment.factors.*.question"),
    # The names of the rule families the progress report counts disclosure decisions under.
    "policy/families.yaml": ("families.*.name",),
}
# The Cedar annotations that hold user-facing text: what would make a disclosure lawful. @citation names the law
# and stays verbatim; @id is an id.
CEDAR_TEXTS = ("remedy",)

_STRING_TAG = "tag:yaml.org,2002:str"
_ANNOTATION = re.compile(r'@([A-Za-z_][A-Za-z0-9_]*)(?:\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\))?', re.DOTALL)
_ESCAPE = re.compile(r"\\(u\{([0-9A-Fa-f]{1,6})\}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def extract_data(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[Extracted]:
    """Babel's extraction method: the user-facing texts of a Cedar policy file or a YAML data file, by the file's
    path (`options["path"]` where the file object has no name)."""
    path = str(options.get("path") or getattr(fileobj, "name", "")).replace("\\", "/")
    text = fileobj.read().decode("utf-8")
    if path.endswith(".cedar"):
        yield from _cedar_texts(text, _data_path(path))
        return
    keys = _keys_for(_data_path(path))
    if keys:
        yield from _yaml_texts(text, keys, _data_path(path))


def _data_path(path: str) -> str:
    """The file's path under accord/data ("policy/ca/manifest.yaml")."""
    _, marker, under = path.rpartition("data/")
    return under if marker else path


def _keys_for(data_path: str) -> tuple[str, ...]:
    return next((keys for pattern, keys in DATA_TEXTS.items() if fnmatch.fnmatchcase(data_path, pattern)), ())


# ---- YAML


def _yaml_texts(text: str, keys: tuple[str, ...], label: str) -> Iterator[Extracted]:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return
    wanted = [tuple(key.split(".")) for key in keys]
    for path, shown, node in _scalars(root, (), ()):
        if node.tag == _STRING_TAG and node.value.strip() and any(_matches(path, key) for key in wanted):
            yield node.start_mark.line + 1, None, node.value, [f"{label}: {'.'.join(shown)}"]


def _scalars(
    node: yaml.Node, path: tuple[str, ...], shown: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], yaml.ScalarNode]]:
    """Every scalar with its key path and the path a translator reads (list items by their code or id)."""
    if isinstance(node, yaml.ScalarNode):
        yield path, shown, node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value)
            yield from _scalars(value, (*path, name), (*shown, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*path, str(index)), (*shown, _item_name(item, index)))


def _item_name(item: yaml.Node, index: int) -> str:
    if isinstance(item, yaml.MappingNode):
        for key, value in item.value:
            if key.value in ("code", "id") and isinstance(value, yaml.ScalarNode):
                return str(value.value)
    return str(index)


def _matches(path: tuple[str, ...], key: tuple[str, ...]) -> bool:
    return len(path) == len(key) and all(k in ("*", p) for p, k in zip(path, key, strict=True))


# ---- Cedar


def _cedar_texts(text: str, label: str) -> Iterator[Extracted]:
    """The @remedy of each policy, with the policy's @id for the translator: annotations belong to the policy they
    precede, which ends at its `;`."""
    pending: list[tuple[int, str, str | None]] = []
    for line, name, value in _cedar_tokens(text):
        if name != ";":
            pending.append((line, name, value))
            continue
        policy = next((v for _, n, v in pending if n == "id" and v), None)
        for at, note, said in pending:
            if note in CEDAR_TEXTS and said:
                yield at, None, said, [f"{label}: @{note} of {policy or 'a policy'}"]
        pending = []


def _cedar_tokens(text: str) -> Iterator[tuple[int, str, str | None]]:
    """Annotations (line, name, value) and the `;` that ends each policy, outside comments and strings."""
    index, line = 0, 1
    while index < len(text):
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif char == '"':
            end = _string_end(text, index)
            line += text.count("\n", index, end)
            index = end
        elif char == "@" and (found := _ANNOTATION.match(text, index)):
            yield line, found[1], _unescape(found[2]) if found[2] is not None else None
            line += found[0].count("\n")
            index = found.end()
        else:
            if char == ";":
                yield line, ";", None
            index += 1


def _string_end(text: str, start: int) -> int:
    """The index just past the string literal that opens at `start`."""
    index = start + 1
    while index < len(text) and text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _unescape(literal: str) -> str:
    """A Cedar string literal's value (Rust-style escapes, as Cedar reads them)."""

    def escaped(match: re.Match[str]) -> str:
        if match[2] is not None:
            return chr(int(match[2], 16))
        return _SIMPLE_ESCAPES.get(match[1], match[0])

    return _ESCAPE.sub(escaped, literal)
