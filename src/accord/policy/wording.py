"""The policy's sentences in two lives. Stored, they are the legal record and stay in English whatever the officer's
language: a decision's reasons, a pack's @remedy with the screens' values, the findings go to the ledger and to the
peer. Shown, they are said again in the reader's language: each is made from a template marked for the catalogues
(N_, or a pack's @remedy) and named values, and `recover` finds the values again in the stored English, so the
record is all a later reader needs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

from accord.i18n import _

# The fields of a template: str.format's named fields, and the {placeholders} of a pack's @remedy.
_FIELD = re.compile(r"\{([a-z_]+)\}")

Said = Callable[[str, str], str]  # (field, its English value) -> the value as the reader reads it


def fill(template: str, values: Mapping[str, str]) -> str:
    """`template` with its {fields} replaced by `values`; a field with no value is left as written (a pack's remedy
    may name one the screens do not compute), and a value is never read as a template itself."""
    return _FIELD.sub(lambda m: values.get(m[1], m[0]), template)


def recover(template: str, text: str) -> dict[str, str] | None:
    """The values that made `text` from `template` (`fill`'s inverse); None when `text` was not made from it."""
    found = _pattern(template).fullmatch(text)
    return found.groupdict() if found else None


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = _FIELD.split(template)  # literal, field, literal, field, …, literal
    named: set[str] = set()
    pattern = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern.append(re.escape(part))
        elif part in named:
            pattern.append(f"(?P={part})")
        else:
            named.add(part)
            pattern.append(f"(?P<{part}>.*?)")
    return re.compile("".join(pattern), re.DOTALL)


def verbatim(field: str, value: str) -> str:
    """A value said as it was recorded: a name, an identifier, a citation."""
    return value


def retell(text: str, template: str, said: Said = verbatim) -> str | None:
    """`text`, made from `template`, in the current language, its values as `said` gives them; None when `text` was
    not made from `template`."""
    values = recover(template, text)
    if values is None:
        return None
    return fill(_(template), {field: said(field, value) for field, value in values.items()})


def retell_any(text: str, templates: Iterable[str], said: Said = verbatim) -> str:
    """`text` in the current language by the first of `templates` it was made from; else its translation where the
    catalogues hold it as a whole sentence, else as it was recorded."""
    for template in templates:
        told = retell(text, template, said)
        if told is not None:
            return told
    return _(text)
