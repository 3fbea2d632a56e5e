"""What each message catalogue lacks: entries without a translation, fuzzy ones (`make translations` prints it)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po


def main(locale_dir: Path) -> int:
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/accord.po")):
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        entries = [m for m in catalogue if m.id]
        untranslated = [m for m in entries if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
        fuzzy = [m for m in entries if m.fuzzy]
        print(f"{po.parts[-3]}: {len(entries)} entries, {len(untranslated)} untranslated, {len(fuzzy)} fuzzy")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "src/accord/locale")))
