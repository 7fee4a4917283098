"""Free-text cleaner on the held-out evaluation set (issue 13 item 1).

The evaluation sentences come from ``freetext_data.make('eval', ...)``: templates, locales, clinical
terms and seed that the training of the word classifier never saw. Prints:

* PHI spans removed / total: a span counts as removed when none of its words (two characters or
  more, honorifics and function words aside) is left in the cleaned text;
* clinical sentences keeping their clinical words / total: every word of every clinical term
  inserted is still in the cleaned text.

Run: python scripts/eval_freetext.py [--n 1000] [--detector model|rules]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from freetext_data import make  # noqa: E402

from deid.header.freetext import FreeTextCleaner, Verdict  # noqa: E402
from deid.header.phi_text import load_scorer  # noqa: E402
from deid.textmatch import normalise  # noqa: E402

_IGNORE = {"dr", "mr", "mrs", "ms", "de", "la", "le", "du", "van", "von", "der", "the", "of", "and", "y", "da",
           "di", "do", "dos", "das", "del", "st", "miss", "herr", "frau", "prof", "pan", "pani", "sr", "sra",
           "mme", "dott", "sig", "mx"}


def _phi_left(text: str, span: tuple[int, int], cleaned: str) -> bool:
    """A word of the span (2+ characters, honorifics and particles aside) is in the cleaned text more
    often than the original text has it outside the span."""
    left = normalise(cleaned).split()
    outside = normalise(text[:span[0]] + " " + text[span[1]:]).split()
    words = [w for w in normalise(text[span[0]:span[1]]).split() if len(w) >= 2 and w not in _IGNORE]
    return any(left.count(w) > outside.count(w) for w in words)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="sentences of each kind")
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--show-misses", action="store_true",
                    help="print the synthetic sentences that miss (Faker values, never real data)")
    args = ap.parse_args()
    scorer = load_scorer() if args.detector == "model" else None
    cleaner = FreeTextCleaner(frozenset(), scorer)
    data = make("eval", args.n, args.n, seed=args.seed)
    spans_total = spans_removed = clin_total = clin_kept = removed_values = 0
    for s in data:
        res = cleaner.clean(s.text)
        removed_values += res.verdict is Verdict.REMOVED
        for start, end in s.spans:
            spans_total += 1
            missed = _phi_left(s.text, (start, end), res.text)
            spans_removed += not missed
            if missed and args.show_misses:
                print(f"PHI LEFT: {s.text!r} -> {res.text!r} span {s.text[start:end]!r}")
        if not s.spans:
            clin_total += 1
            left = set(normalise(res.text).split())
            kept = all(w in left for term in s.clinical for w in normalise(term).split())
            clin_kept += kept
            if not kept and args.show_misses:
                print(f"CLINICAL LOST: {s.text!r} -> {res.text!r} ({res.verdict.value})")
    print(f"detector: {args.detector}; evaluation sentences: {len(data)} (held out: templates, locales, terms)")
    print(f"PHI spans removed: {spans_removed} / {spans_total} = {spans_removed / max(spans_total, 1):.1%}")
    print(f"clinical sentences keeping their clinical words: {clin_kept} / {clin_total} = "
          f"{clin_kept / max(clin_total, 1):.1%}")
    print(f"values removed whole (default deny): {removed_values} / {len(data)}")


if __name__ == "__main__":
    main()
