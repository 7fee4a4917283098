"""Why clinical sentences of the independent DEV part lose words (issue 13, item 1): for every clinical
or eponym sentence whose terms do not survive, says whether the value was removed whole (and which
words nobody could call safe) or which words were masked and by which layer (rules or the learned
scorer). Dev part only: the test part is for reporting and is never looked at word by word.

Run: nice -n 10 python scripts/eval_freetext_why.py --seed 47 [--n 200] [--detector model]
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_freetext_independent import span_left, terms_kept  # noqa: E402
from freetext_independent import make  # noqa: E402


def _data(n: int, seed: int) -> list:
    cache = Path(f"/tmp/freetext_dev_{n}_{seed}.pkl")
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    data = make("dev", n, n, n // 5, seed)
    cache.write_bytes(pickle.dumps(data))
    return data


def why(cleaner, text: str) -> tuple[str, list[str]]:
    """("removed", the words nobody could call safe) or ("rules"/"scorer", the masked words)."""
    from deid.header import freetext as ft

    res = cleaner.clean(text)
    words = ft._words(text)
    all_caps = ft._all_caps(words)
    ft._mark_terms(words, all_caps)
    if res.verdict is ft.Verdict.REMOVED:
        rules = ft._rule_ranges(words, all_caps, True)
        return "removed", [w.text for w in words if ft._alpha(w.text) and not ft._covered(w, rules) and not w.term
                           and not ft.is_known(w.text, not all_caps)]
    rules = ft._rule_ranges(words, all_caps, True)
    by_rule = [w.text for w in words if ft._covered(w, rules)]
    return ("rules" if by_rule else "other"), by_rule or [res.text]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    args = ap.parse_args()
    if args.seed < 47 and args.seed not in (31, 40, 41, 42, 43, 44, 45, 46):
        raise SystemExit("dev seeds only (31, 40-46 or >= 47)")
    from deid.header.freetext import FreeTextCleaner
    from deid.header.phi_text import load_scorer

    cleaner = FreeTextCleaner(frozenset(), load_scorer() if args.detector == "model" else None)
    causes: Counter[str] = Counter()
    words: Counter[str] = Counter()
    lost = n = phi = phi_left = 0
    for s in _data(args.n, args.seed):
        res = cleaner.clean(s.text)
        for span in s.spans:
            left = span_left(s.text, span, res.text)
            phi += left is not None
            if left:
                phi_left += 1
                print(f"PHI LEFT [{span.kind}] {s.text!r} -> {res.text!r}")
        if s.category == "phi":
            continue
        n += 1
        if terms_kept(s, res.text):
            continue
        lost += 1
        cause, ws = why(cleaner, s.text)
        causes[cause] += 1
        words.update(w.lower() for w in ws)
        print(f"{cause:8} {ws} | {s.text!r} -> {res.text!r}")
    print(f"seed {args.seed}: PHI left {phi_left}/{phi}; sentences lost {lost}/{n}: {dict(causes)}")
    print("most frequent words:", words.most_common(40))


if __name__ == "__main__":
    main()
