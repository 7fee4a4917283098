"""PHI and clinical lines of the classifier's HELD-OUT training sources kept by decide(), per review band.

    python scripts/probe_pixel_heldout.py [--model DIR] [--seed 99] [--n 3000] [--lows 0.1,0.2]

Lines: ``phi_training_lines.lines("heldout", n, seed)`` (faker in the held-out locales, RadLex / FMA /
NCIt meanings; no evaluation source is read), decided with NO header identifiers (the classifier and the
rules alone: the PHI that only the pixels hold) at confidence 0.95 and no box. A line counts as PHI when
any of its words is labelled PHI. A classifier change ships only if it keeps no more PHI lines here, on
each seed tried, than the shipped model at the shipped band (issue #12: correctness first).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from phi_training_lines import lines  # noqa: E402

from deid.header.identifiers import Identifiers  # noqa: E402
from deid.pixels.classify import Action, Thresholds, decide, load_allowlist  # noqa: E402
from deid.pixels.lexicon import load_lexicon  # noqa: E402
from deid.pixels.phi_model import TokenPhiModel  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--lows", default="0.2")
    ap.add_argument("--high", type=float, default=0.8)
    args = ap.parse_args()
    model = TokenPhiModel(args.model, threads=1)
    allow, lex = load_allowlist(), load_lexicon()
    data = lines("heldout", args.n, args.seed)
    texts = [" ".join(w) for w, _ in data]
    phi = [any(labels) for _, labels in data]
    scores = model.score(texts)
    for low in (float(x) for x in args.lows.split(",")):
        th = Thresholds(review_low=low, review_high=args.high)
        n: Counter = Counter()
        kept: Counter = Counter()
        for text, is_phi, s in zip(texts, phi, scores, strict=True):
            part = "phi" if is_phi else "clinical"
            n[part] += 1
            kept[part] += decide(text, 0.95, Identifiers(), allow, float(s), th, lex, None).action is Action.KEEP
        print(f"{model.version} seed {args.seed} band {low},{args.high}: PHI lines kept {kept['phi']}/{n['phi']}  "
              f"clinical lines kept {kept['clinical']}/{n['clinical']}")


if __name__ == "__main__":
    main()
