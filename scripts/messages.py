"""Rebuild the French catalogue: extract every marked string, fill in the translations, compile.

    make messages          (needs gettext's xgettext, a developer tool; users need nothing:
                            the compiled catalogue, django.mo, is committed)

1. `medworks makemessages -l fr` extracts every msgid of the project (templates and Python)
   into src/medworks/locale/fr/LC_MESSAGES/django.po, keeping the translations already there.
2. Translations written in locale/fragments/*.po (one file per area, by whoever marked the
   strings) fill the entries still empty; an entry already translated in django.po wins.
3. The catalogue is compiled to django.mo with polib (no msgfmt needed).

Prints how many messages the catalogue holds and which are still untranslated or fuzzy
(tests/test_translations.py fails while any is).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "medworks"
CATALOGUE = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
FRAGMENTS = ROOT / "locale" / "fragments"


def extract() -> None:
    medworks = Path(sys.executable).with_name("medworks")
    subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        [str(medworks), "makemessages", "-l", "fr", "--no-obsolete", "--no-location"],
        cwd=PACKAGE,
        check=True,
    )


def fill(catalogue: polib.POFile) -> int:
    known: dict[tuple[str, str], polib.POEntry] = {}
    for fragment in sorted(FRAGMENTS.glob("*.po")):
        for entry in polib.pofile(str(fragment)):
            if entry.msgstr or entry.msgstr_plural:
                known.setdefault((entry.msgctxt or "", entry.msgid), entry)
    filled = 0
    for entry in catalogue:
        if entry.translated() and "fuzzy" not in entry.flags:
            continue
        source = known.get((entry.msgctxt or "", entry.msgid))
        if source is None:
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = dict(source.msgstr_plural) or {0: source.msgstr, 1: source.msgstr}
        else:
            entry.msgstr = source.msgstr
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        filled += 1
    return filled


def main() -> int:
    extract()
    catalogue = polib.pofile(str(CATALOGUE))
    filled = fill(catalogue)
    catalogue.metadata["Language"] = "fr"
    catalogue.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);"
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalogue.save(str(CATALOGUE))
    catalogue.save_as_mofile(str(CATALOGUE.with_suffix(".mo")))
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    print(
        f"{len(catalogue)} messages, {filled} filled from fragments, "
        f"{len(missing)} untranslated, {len(fuzzy)} fuzzy"
    )
    for msgid in (missing + fuzzy)[:50]:
        print("  missing:", msgid[:100].replace("\n", "\\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
