"""Probe: lower-case surnames with no person cue in mixed-case free text (issue 13, item 1).

A surname written in lower case ("Images sent to baker for review.") has neither a capital nor a cue
("Dr", "by", "wife") to show it is a name; only the word lists and the learned scorer can catch it.
Some surnames are English words too ("baker", "rose"), which the cleaner trusts in lower case. This
probe puts ``--n`` distinct lower-case surnames, none of them a DICOM vocabulary word
(:func:`deid.textmatch.vocabulary`, which the cleaner's changes do not touch, so that the probe set
stays the same across changes), into sentences without a person cue and counts how many survive the
cleaner (with its learned scorer). A change to the cleaner may not raise the count.

``--names faker`` (default, the tuning probe): surnames of every Faker locale's person provider,
equally likely. ``--names census``: the 1990 US Census surnames of ``scripts/eval_names.py`` drawn
by their frequency; evaluation only (run it at the start and at the end, never tune on it, never
print its names: ``--show`` works with Faker names only).

Run: PYTHONHASHSEED=0 OMP_NUM_THREADS=1 nice -n 10 python scripts/probe_lower_names.py --names faker
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from build_common_words import provider_values  # noqa: E402
from eval_freetext_independent import words  # noqa: E402

from deid.textmatch import normalise, vocabulary  # noqa: E402

# Sentences a technologist or a PACS note may hold, with no honorific, relation word, role noun or
# other person cue before or after the name.
TEMPLATES = (
    "Images sent to {name} for review.",
    "Copy of report to {name} please.",
    "Films to be collected, {name} aware.",
    "Query re contrast dose, {name} to confirm.",
    "Booked for Tuesday, {name} will bring prior films.",
    "Study forwarded to {name} for second read.",
    "Please ring {name} when done.",
    "Prior CT requested from {name}, not received yet.",
)
_ATTRS = ("last_names", "last_names_male", "last_names_female")


def faker_surnames() -> list[str]:
    """Every single-word surname of every Faker locale's person provider, lower case."""
    from faker.providers import person

    return sorted({v.lower() for v in provider_values((person,), _ATTRS) if v.isalpha()})


def surnames(source: str, n: int, seed: int) -> list[str]:
    """``n`` distinct lower-case surnames of at least three letters that are no DICOM vocabulary word."""
    rng = random.Random(f"lower-names:{source}:{seed}")
    vocab = vocabulary()

    def usable(name: str) -> bool:
        return len(name) >= 3 and name.isalpha() and normalise(name) not in vocab

    if source == "faker":
        pool = [s for s in faker_surnames() if usable(s)]
        return rng.sample(pool, min(n, len(pool)))
    from eval_names import surnames as census_surnames

    lists, out = census_surnames(), dict[str, None]()
    for _ in range(100 * n):
        name = lists.draw(rng, False).lower()
        if usable(name):
            out[name] = None
        if len(out) == n:
            break
    return list(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", choices=("faker", "census"), default="faker")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    ap.add_argument("--show", action="store_true", help="print the surviving surnames (Faker names only)")
    args = ap.parse_args()
    if args.show and args.names != "faker":
        raise SystemExit("--show prints Faker names only: the census lists are evaluation-only")

    from deid.header.freetext import FreeTextCleaner
    from deid.header.phi_text import load_scorer

    cleaner = FreeTextCleaner(frozenset(), load_scorer() if args.detector == "model" else None)
    names = surnames(args.names, args.n, args.seed)
    left = 0
    for k, name in enumerate(names):
        text = TEMPLATES[k % len(TEMPLATES)].format(name=name)
        cleaned = cleaner.clean(text).text
        survived = all(w in set(words(cleaned)) for w in words(name))  # the eval's folding
        left += survived
        if survived and args.show:
            print(f"LEFT {text!r} -> {cleaned!r}")
    print(f"lower-case surnames ({args.names}, seed {args.seed}, detector {args.detector}) left after cleaning: "
          f"{left} / {len(names)}")


if __name__ == "__main__":
    main()
