"""Clinical words kept per dev source: a leave-one-source-out view of the free-text cleaner (issue 13).

``eval_freetext_independent.py`` draws clinical terms from the dev part's pool, where WHO ICD-10 and
MDC make up 97 % of the terms: IBSI, UMLS and NEU get a handful of terms a seed. Here every dev source
is swept on its own: up to ``--per-source`` of its terms (all of them when it has fewer), each put in
a clinical template of the dev part (the same templates and the same mid-sentence lower-casing as the
independent set), and the cleaner (with the learned scorer) decides. A term is kept when every word of
it is still in the cleaned text (the independent set's scoring, ``terms_kept``).

Tune by looking at the misses of some sources only (``--show-misses MDC,NEU,UMLS``) and count the
others unseen: a source whose misses are never looked at stands for a vocabulary the cleaner has never
met. Dev part only: the test sources are never read here.

Run: PYTHONHASHSEED=0 OMP_NUM_THREADS=1 nice -n 10 python scripts/eval_freetext_sources.py --seed 81
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_freetext_independent import words  # noqa: E402
from freetext_independent import _SLOT, DEV_SOURCES, _Part, term_sources, vocabulary  # noqa: E402

_SMALL = frozenset(["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "per", "the", "to", "with", "without", "via"])


def title_case(term: str) -> str:
    """A term as title-case vocabularies write it ("Malignant Neoplasm of the Ovary"): every word
    capitalised but short function words; acronyms and words with a capital or a digit as they are."""
    out = []
    for k, w in enumerate(term.split(" ")):
        plain = w.isalpha() and w.islower()
        out.append(w[:1].upper() + w[1:] if plain and (k == 0 or w not in _SMALL) else w)
    return " ".join(out)


def sentences(seed: int, per_source: int, title: bool = False) -> list[tuple[str, str, str]]:
    """(source, term as written, sentence) for up to ``per_source`` terms of every dev source; with
    ``title`` every term in title case (:func:`title_case`), mid-sentence too."""
    rng = random.Random(f"sources:{seed}")
    templates = _Part("dev", seed, "faker").templates["clinical"]
    clinical, _ = vocabulary("dev")
    sources = term_sources("dev")
    by_source: dict[str, list[str]] = defaultdict(list)
    for t in clinical:
        by_source[sources.get(t, "?")].append(t)
    out = []
    for source in sorted(by_source):
        pool = by_source[source]
        for term in rng.sample(pool, min(per_source, len(pool))):
            template = rng.choice(templates)
            text, pos, first = "", 0, True
            written = term
            for m in _SLOT.finditer(template):
                text += template[pos:m.start()]
                pos = m.end()
                t = term if first else rng.choice(pool)  # a second slot: another term of the same source
                if title:
                    t = title_case(t)
                elif m.start() > 0 and rng.random() < 0.5:
                    t = t[0].lower() + t[1:]  # mid-sentence, as clinicians write it (as the independent set)
                written = t if first else written
                first = False
                text += t
            text += template[pos:]
            out.append((source, written, text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=81)
    ap.add_argument("--per-source", type=int, default=400, help="terms per source (all when fewer)")
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    ap.add_argument("--title", action="store_true",
                    help="every term in title case, as title-case vocabularies (IBSI, NCIt) write them")
    ap.add_argument("--show-misses", default="", help="comma-separated sources whose lost terms are printed")
    args = ap.parse_args()

    from deid.header.freetext import FreeTextCleaner
    from deid.header.phi_text import load_scorer

    cleaner = FreeTextCleaner(frozenset(), load_scorer() if args.detector == "model" else None)
    shown = frozenset(s for s in args.show_misses.split(",") if s)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for source, term, text in sentences(args.seed, args.per_source, args.title):
        res = cleaner.clean(text)
        kept = all(w in set(words(res.text)) for w in words(term))
        tally[source][0] += kept
        tally[source][1] += 1
        if not kept and source in shown:
            print(f"LOST [{source}] {text!r} -> {res.text!r} ({res.verdict.value})")
    print(f"dev sources, seed {args.seed}, {args.per_source} terms per source at most, detector {args.detector}"
          f"{', title case' if args.title else ''}")
    for source in (*DEV_SOURCES, *sorted(set(tally) - set(DEV_SOURCES))):
        kept, n = tally.get(source, [0, 0])
        print(f"  {source}: {kept} / {n} = {kept / max(n, 1):.1%}")


if __name__ == "__main__":
    main()
