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

The cleaner keeps a lower-case word on this list; a capitalised one inside a sentence is still
judged against the DICOM vocabulary only (a capitalised common word there is often a name).

Run: apt-get install hunspell-en-us && python scripts/build_lexicon_words.py   (needs the dev extra: faker)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_common_words import faker_names  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "deid" / "header" / "data"
OUT = DATA / "lexicon_words.txt"
SOURCE = Path("/usr/share/hunspell/en_US.dic")


def main() -> None:
    entries = SOURCE.read_text(encoding="utf-8", errors="ignore").splitlines()[1:]
    words = {e.split("/")[0] for e in entries}
    lower = {w for w in words if re.fullmatch(r"[a-z]{3,}", w)}
    common = set((DATA / "common_words.txt").read_text(encoding="utf-8").split())
    names = faker_names()
    keep = sorted(lower - names - common)
    OUT.write_text("\n".join(keep) + "\n", encoding="utf-8")
    print(f"{len(lower)} lower-case dictionary words, {len(keep)} kept -> {OUT}")


if __name__ == "__main__":
    main()
