"""The catalogues are complete and correct: every string marked in the code, the templates and the data (extracted as
`pybabel extract -F babel.cfg` does) is in the French and Hindi catalogues and translated there, with the same
placeholders, French typography, Hindi in Devanagari; and nothing a user reads is left unmarked."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "accord"
LANGUAGES = ("fr", "hi")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
DEVANAGARI = re.compile("[\u0900-\u097f]")
# Text that stays as it is in every language (a name; the mark of the product).
UNTRANSLATED_TEXT = {"Accord", "TLP", "STIX", "TAXII", "PDF", "CSV", "JSON", "HTML", "UTC", "CAS", "HS", "IOC", "PEN"}
# Python calls whose first argument a user reads: an error (shown as a problem, a page or a CLI error), a CLI line.
# Python's own errors are a bug's or a caller's, turned into ours (with a translated message) where a user meets them.
INTERNAL_ERRORS = {
    "ValueError",
    "TypeError",
    "RuntimeError",
    "AssertionError",
    "KeyError",
    "IndexError",
    "LookupError",
    "NotImplementedError",
    "AttributeError",
    "OSError",
    "SystemExit",
}


def message_key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@cache
def extracted() -> dict[str, set[str]]:
    """msgid -> the files it comes from, as `pybabel extract -F babel.cfg src/accord` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        found.setdefault(message_key(message), set()).add(filename)
    return found


@cache
def catalogue(language: str) -> Catalog:
    with (PACKAGE / "locale" / language / "LC_MESSAGES" / "accord.po").open("rb") as po:
        return read_po(po, locale=language)


def translated(language: str) -> Iterator[tuple[str, str]]:
    """(source, translation) of every entry, each plural form paired with its English form."""
    for message in catalogue(language):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            for index, form in enumerate(forms):
                yield message.id[min(index, 1)], form
        else:
            yield message.id, str(message.string)


def test_extraction_finds_the_strings_of_code_templates_and_data() -> None:
    sources = {Path(f).suffix for files in extracted().values() for f in files}
    assert {".py", ".j2", ".yaml", ".cedar"} <= sources


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_extracted_string_is_in_the_catalogue_and_translated(language: str) -> None:
    entries = {message_key(m.id): m for m in catalogue(language) if m.id}
    missing = sorted(set(extracted()) - set(entries))
    assert not missing, (
        f"{len(missing)} strings not in the {language} catalogue (run `make translations`): {missing[:20]}"
    )
    untranslated = [
        key for key, m in entries.items() if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated, f"{len(untranslated)} untranslated or fuzzy in {language}: {untranslated[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_and_the_plural_forms(language: str) -> None:
    problems = [f"{m.id!r}: {errors}" for m, errors in catalogue(language).check() if errors]
    for source, text in translated(language):
        if "{" in source and _fields(source) is not None and _fields(text) != _fields(source):
            problems.append(f"{source!r} -> {text!r}: placeholders {_fields(source)} became {_fields(text)}")
        if re.findall(r"%\(\w+\)[sd]", source) and sorted(re.findall(r"%\(\w+\)[sd]", source)) != sorted(
            re.findall(r"%\(\w+\)[sd]", text)
        ):
            problems.append(f"{source!r} -> {text!r}: %-placeholders differ")
        if re.findall(r"\[/?[a-z ]*\]", source) != re.findall(r"\[/?[a-z ]*\]", text):
            problems.append(f"{source!r} -> {text!r}: the console markup differs")
    assert not problems, "\n".join(problems[:20])


def _fields(text: str) -> list[str] | None:
    """The str.format fields of `text` (sorted), or None when it is not a format string."""
    try:
        return sorted(
            f"{name}!{conversion}:{spec}"
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        )
    except ValueError:
        return None


def _prose(text: str) -> str:
    """The prose of a message: literal JSON, TLP labels, header names, placeholders, code, console markup, quoted
    values, paths, URLs and times left out."""
    text = re.sub(r"\{\{.*\}\}|\bTLP:\S*|\b(Accept|Content-Type|Content-Length|Authorization|Retry-After):", " ", text)
    text = re.sub(r"`[^`]*`|\{[^{}]*\}|%\(\w+\)[sd]|\[/?[a-z ]*\]|https?://\S+|\b\d{1,2}:\d{2}\b", " ", text)
    return re.sub(r"\"[^\"]*\"|'[^' ]*'|\S*[/_]\S*", " ", text)


# A letter, then a plain space before « : ; ? ! » » (or none at all before ; ? !); a « followed by a plain space.
_FRENCH_SPACING = re.compile(r"[^\W\d_] [:;?!»]|« |[^\W\d_][;?!](\s|$)|[^\W\d_]: ")


def test_french_typography_puts_a_no_break_space_before_double_punctuation() -> None:
    wrong = [f"{source!r} -> {text!r}" for source, text in translated("fr") if _FRENCH_SPACING.search(_prose(text))]
    assert not wrong, f"{len(wrong)} French entries without the no-break space: " + "\n".join(wrong[:20])


def test_hindi_entries_are_written_in_devanagari() -> None:
    latin_only = [
        f"{source!r} -> {text!r}"
        for source, text in translated("hi")
        if len(re.findall(r"[A-Za-z]{3,}", _prose(source))) >= 2
        and not re.fullmatch(r"[\w ]+(, [\w ]+)+…?", source)  # a list of values typed as they are
        and not DEVANAGARI.search(text)
    ]
    assert not latin_only, f"{len(latin_only)} Hindi entries left in English: " + "\n".join(latin_only[:20])


# What is not text a reader sees as written: marked blocks, comments, expressions, tags, scripts and styles.
TEMPLATE_NOISE = re.compile(
    r"\{%-? *trans\b.*?endtrans *-?%\}|\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}"
    r"|<script.*?</script>|<style.*?</style>|<!--.*?-->",
    re.S,
)
READ_ATTRIBUTES = re.compile(r'\b(title|placeholder|aria-label|alt|label|data-[a-z-]*text[a-z-]*)="([^"]*)"')


def _templates() -> list[Path]:
    return sorted(PACKAGE.glob("**/templates/**/*.j2"))


@pytest.mark.parametrize("template", _templates(), ids=lambda p: p.name)
def test_no_text_in_a_template_is_left_unmarked(template: Path) -> None:
    source = template.read_text()
    attributes = [
        f"{name}={value!r}"
        for name, value in READ_ATTRIBUTES.findall(source)
        if re.search(r"[a-z]{2,}", TEMPLATE_NOISE.sub("", value)) and not value.startswith("{{")
    ]
    text = re.sub(r"<[^>]*>", " ", TEMPLATE_NOISE.sub(" ", source))
    tokens = re.findall(r"[A-Za-z][\w'’-]+", text)
    words = [w for w in tokens if w not in UNTRANSLATED_TEXT and not re.search(r"\d", w)]
    assert not attributes and not words, f"unmarked in {template.name}: {attributes} {words[:20]}"


def _python_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2,}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and re.search(r"[A-Za-z]{2,}", str(v.value)) for v in node.values)
    return False


MARKING = {"_", "gettext", "ngettext", "pgettext", "N_"}


def _loose_text(node: ast.expr) -> Iterator[ast.expr]:
    """Text in an expression a user reads that no marking call holds: an operand of `+`, a branch of `… if … else …`
    (what f-string fields compute is data, not text)."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKING:
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        yield from _loose_text(node.func.value)
        return
    if _is_text(node):
        yield node
    elif isinstance(node, ast.BinOp):
        yield from _loose_text(node.left)
        yield from _loose_text(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _loose_text(node.body)
        yield from _loose_text(node.orelse)


def _unmarked(tree: ast.AST, *, console_tables: bool) -> Iterator[ast.expr]:
    """Literal text where a user reads it: an error's detail, `stop(...)`, a console line, a table's headers, a CLI
    option's help."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            callee = node.exc.func
            name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
            if name not in INTERNAL_ERRORS:
                yield from _loose_text(node.exc.args[0])
        if isinstance(node, ast.Call):
            callee = node.func
            name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
            printer = isinstance(callee, ast.Attribute) and getattr(callee.value, "id", "") in {"console", "errors"}
            if (name == "stop" or (name == "print" and printer)) and node.args:
                yield from _loose_text(node.args[0])
            if name == "Table" and console_tables:  # rich's tables in the CLI (not SQLAlchemy's)
                for header in node.args:
                    yield from _loose_text(header)
            for keyword in node.keywords:
                if keyword.arg == "help":
                    yield from _loose_text(keyword.value)
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node) and console_tables:
            commands = [
                d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command"
            ]
            if any(not any(k.arg == "help" for k in d.keywords) for d in commands):
                yield node.body[0].value  # type: ignore[attr-defined]  # the docstring Typer would show as the help


def test_no_error_or_cli_message_in_python_is_left_unmarked() -> None:
    found = [
        f"{module.relative_to(PACKAGE)}:{node.lineno}"
        for module in _python_modules()
        for node in _unmarked(ast.parse(module.read_text()), console_tables="cli" in module.parts)
    ]
    assert not found, f"{len(found)} messages not wrapped in _(): {found[:20]}"


def test_no_function_hides_the_translation_function_behind_a_local_underscore() -> None:
    """`head, _, tail = s.partition(...)` in a function that also calls `_(...)` makes `_` a string there."""
    found = []
    for module in _python_modules():
        for function in ast.walk(ast.parse(module.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            comprehended = {
                id(name)
                for node in ast.walk(function)
                if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp)
                for generator in node.generators
                for name in ast.walk(generator.target)
            }
            binds = any(
                isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) and id(n) not in comprehended
                for n in ast.walk(function)
            )
            calls = any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_" for n in ast.walk(function))
            if binds and calls:
                found.append(f"{module.relative_to(PACKAGE)}:{function.lineno} {function.name}")
    assert not found, found


def test_no_message_is_marked_inside_an_f_string() -> None:
    """Extraction reads an f-string as one token: a `_("…")` inside it never reaches the catalogues."""
    marking = {"_", "gettext", "ngettext", "pgettext", "N_"}
    found = [
        f"{module.relative_to(PACKAGE)}:{call.lineno}"
        for module in _python_modules()
        for joined in ast.walk(ast.parse(module.read_text()))
        if isinstance(joined, ast.JoinedStr)
        for call in ast.walk(joined)
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) in marking
    ]
    assert not found, found


def test_a_computed_text_is_translated_without_handing_extraction_a_key_for_a_message() -> None:
    """`_(row["title"])` would put "title" in the catalogues; data text goes through `in_language` instead."""
    found = [
        f"{module.relative_to(PACKAGE)}:{call.lineno}"
        for module in _python_modules()
        for call in ast.walk(ast.parse(module.read_text()))
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", None) in {"_", "gettext", "N_"}
        and call.args
        and not isinstance(call.args[0], ast.Constant)
        and any(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in ast.walk(call.args[0]))
    ]
    assert not found, found
