"""Build ``deid/header/data/lexicon_words.txt``: lower-case English words of a spelling dictionary
that are not names or places, for the free-text cleaner's default deny (issue 13, item 1).

Source: the Hunspell en_US dictionary of SCOWL (Debian package ``hunspell-en-us``,
/usr/share/hunspell/en_US.dic; SCOWL's permissive licence, see ``lexicon_words.NOTICE``), a general
English word list that holds many clinical words the DICOM vocabulary lacks ("dialysis", "goiter",
"postpartum"). Kept: entries written in lower case only (a dictionary writes names capitalised), of
three letters or more; removed: every first name, last name, city, street name and state that Faker
ships for any of its locales (as in scripts/build_common_words.py), and the common words already
listed. It is neither a coding scheme nor a source of the free-text evaluation
(scripts/freetext_independent.py: PS3.16 schemes MDC, NEU, UMLS, IBSI, NCIt, FMA; ICD-10; ICD-10-CM).

Every form the dictionary's affix rules make is listed ("inexplicable", "desired", "singletons"):
``unmunch`` of Debian's ``hunspell-tools`` expands the entries with en_US.aff (same source, same
licence). Dictionary words that are also a Faker name or place ("sharp", "grey", "pace", "born")
go to ``lexicon_names.txt``; every Faker name or place word (lower case, ASCII, three letters or
more; Faker is MIT-licensed) goes to ``name_words.txt``, so that the cleaner knows a vocabulary or
word-shaped word that is also a name ("Iris", "Carina", "petrovic"). The cleaner lets dictionary
words that are names stand in lower case inside a value (no default deny) but never calls them
known (after a person cue they are still a name).

The cleaner keeps a lower-case word on this list; a capitalised one inside a sentence is still
judged against the DICOM vocabulary only (a capitalised common word there is often a name).

Run: apt-get install hunspell-en-us hunspell-tools && python scripts/build_lexicon_words.py
(needs the dev extra: faker)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_common_words import faker_names  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "deid" / "header" / "data"
OUT = DATA / "lexicon_words.txt"
NAMES_OUT = DATA / "lexicon_names.txt"
FAKER_OUT = DATA / "name_words.txt"
SOURCE = Path("/usr/share/hunspell/en_US.dic")
AFFIXES = Path("/usr/share/hunspell/en_US.aff")


def _entries() -> set[str]:
    """Every word the dictionary makes: its entries expanded by its affix rules (``unmunch``)."""
    out = subprocess.run(["unmunch", str(SOURCE), str(AFFIXES)], capture_output=True, check=True).stdout
    words = {line.split("/")[0] for line in out.decode("utf-8", "ignore").splitlines()}
    entries = SOURCE.read_text(encoding="utf-8", errors="ignore").splitlines()[1:]
    return words | {e.split("/")[0] for e in entries}


def main() -> None:
    lower = {w for w in _entries() if re.fullmatch(r"[a-z]{3,}", w)}
    common = set((DATA / "common_words.txt").read_text(encoding="utf-8").split())
    names = faker_names()
    keep = sorted(lower - names - common)
    OUT.write_text("\n".join(keep) + "\n", encoding="utf-8")
    both = sorted((lower & names) - common)
    NAMES_OUT.write_text("\n".join(both) + "\n", encoding="utf-8")
    faker = sorted(w for w in names if re.fullmatch(r"[a-z]{3,}", w))
    FAKER_OUT.write_text("\n".join(faker) + "\n", encoding="utf-8")
    print(f"{len(lower)} lower-case dictionary words, {len(keep)} kept -> {OUT}, {len(both)} names -> {NAMES_OUT}")


if __name__ == "__main__":
    main()
