"""The free-text cleaner on the independent set of ``freetext_independent.py`` (issue 13, item 1).

Tune on ``--part dev`` only; report ``--part test``. Scoring (written here, not imported from the
project, so that a change to the project's normaliser cannot change the yardstick):

* words: Unicode NFKD, accents dropped, lower case, every run of non-alphanumerics a separator;
  words of one character and titles / particles (``_IGNORE``) are not scored;
* a PHI span is removed when none of its scored words occurs in the cleaned text more often than in
  the original text outside the span; a span with no scored word (e.g. initials "J.K.") is counted
  apart as unscorable;
* a clinical (or eponym) sentence keeps its terms when every word of every inserted term is still in
  the cleaned text; "unchanged" when every word of the whole sentence is still there (as many times);
* per source (``term_sources``): each inserted clinical term on its own, kept when all its words are
  still in the cleaned text (a sentence may hold terms of two sources). ``--miss-sources`` prints only
  the lost clinical sentences of the sources named, so that a held-out source can be counted unseen.

Prints totals per PHI kind and per locale group (locales in neither of the project's tuples vs
shared). PHI values are printed only with ``--show-misses`` (Faker values, never real data).

Run: nice -n 10 python scripts/eval_freetext_independent.py --part dev --n 500 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_names import SOURCES as NAME_SOURCES  # noqa: E402
from freetext_independent import Sentence, Span, generic_words, make, new_locale, term_sources  # noqa: E402

_IGNORE = frozenset({"dr", "mr", "mrs", "ms", "prof", "med", "mudr", "de", "la", "le", "van", "von", "der",
                     "den", "da", "di", "del", "do", "dos", "das", "du", "st", "of", "the", "and", "y", "el"})
_GENERIC = generic_words()


def words(text: str) -> list[str]:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in folded.lower()).split()


def scored_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) >= 2 and w not in _IGNORE]


def span_left(text: str, span: Span, cleaned: str) -> list[str] | None:
    """The scored words of the span that survived ([] when removed); None: nothing to score. Layout
    words of institutions and units ("Hospital", "Flat") are not scored."""
    generic = _GENERIC if span.kind in ("institution", "address") else frozenset()
    ws = [w for w in scored_words(text[span.start:span.end]) if w not in generic]
    if not ws:
        return None
    left, outside = Counter(words(cleaned)), Counter(words(text[:span.start] + " " + text[span.end:]))
    return [w for w in dict.fromkeys(ws) if left[w] > outside[w]]


def year_only(value: str, survivors: list[str]) -> bool:
    """Only the year of a date survived (HIPAA Safe Harbor keeps years)."""
    digits = [w for w in words(value) if w.isdigit()]
    return bool(digits) and survivors == [digits[-1]] and len(digits[-1]) in (2, 4)


def terms_kept(s: Sentence, cleaned: str) -> bool:
    left = set(words(cleaned))
    return all(w in left for term in s.clinical for w in words(term))


def unchanged(s: Sentence, cleaned: str) -> bool:
    return not Counter(scored_words(s.text)) - Counter(scored_words(cleaned))


class Tally:
    def __init__(self) -> None:
        self.phi: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # key -> [removed, total]
        self.unscorable = 0
        self.sent: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # category -> [terms, same, n]
        self.removed_whole = 0
        self.terms: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # source -> [kept, total], per term

    def add_span(self, s: Sentence, span: Span, left: list[str] | None) -> None:
        if left is None:
            self.unscorable += 1
            return
        group = "new locales" if new_locale(span.locale) else "shared locales"
        keys = ["ALL", f"kind:{span.kind}", f"group:{group}", f"locale:{span.locale}"]
        keys += ["ALL but time"] if span.kind != "time" else []
        for key in keys:
            self.phi[key][0] += not left
            self.phi[key][1] += 1
        if span.kind == "date":
            self.phi["kind:date, year may stay"][0] += not left or year_only(s.text[span.start:span.end], left)
            self.phi["kind:date, year may stay"][1] += 1

    def add_sentence(self, s: Sentence, cleaned: str, sources: dict[str, str]) -> bool:
        kept = terms_kept(s, cleaned)
        schemes = {sources.get(t, "?") for t in s.clinical}
        keys = [s.category] + ([f"{s.category}, terms from {'+'.join(sorted(schemes))}"]
                               if s.category == "clinical" else [])
        for key in keys:
            row = self.sent[key]
            row[0] += kept
            row[1] += unchanged(s, cleaned)
            row[2] += 1
        if s.category == "clinical":
            left = set(words(cleaned))
            for term in s.clinical:
                row = self.terms[sources.get(term, "?")]
                row[0] += all(w in left for w in words(term))
                row[1] += 1
        return kept


def _pct(a: int, b: int) -> str:
    return f"{a} / {b} = {a / max(b, 1):.1%}"


def report(t: Tally, show_locales: bool) -> None:
    for key in sorted(t.phi, key=lambda k: (k != "ALL", k.split(":")[0] == "locale", k)):
        if key.startswith("locale:") and not show_locales:
            continue
        print(f"  PHI spans removed [{key}]: {_pct(*t.phi[key])}")
    print(f"  unscorable spans (no word of 2+ characters): {t.unscorable}")
    for cat in sorted(t.sent, key=lambda k: (k == "eponym", "," in k, k)):
        terms, same, n = t.sent[cat]
        print(f"  {cat} sentences keeping their terms: {_pct(terms, n)}; every word kept: {_pct(same, n)}")
    for source in sorted(t.terms):
        print(f"  clinical terms kept, source {source}: {_pct(*t.terms[source])}")
    print(f"  values removed whole (verdict REMOVED): {t.removed_whole}")


def _shown(s: Sentence, sources: dict[str, str], only: frozenset[str] | None) -> bool:
    """A lost clinical sentence is printed only when every term's source is in ``only`` (held-out
    sources' misses stay unseen); eponym sentences only without ``only``."""
    if only is None:
        return True
    return s.category == "clinical" and {sources.get(t, "?") for t in s.clinical} <= only


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("dev", "test"), default="dev")
    ap.add_argument("--n", type=int, default=500, help="PHI sentences and clinical sentences each")
    ap.add_argument("--n-eponym", type=int, default=None, help="eponym sentences (default n // 5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    ap.add_argument("--show-misses", action="store_true", help="print synthetic sentences that miss")
    ap.add_argument("--by-locale", action="store_true")
    ap.add_argument("--digest", action="store_true",
                    help="print one sha256 over every cleaned sentence and verdict (byte identity of two runs)")
    ap.add_argument("--names", choices=NAME_SOURCES, default="faker",
                    help="person names: Faker (default, old seeds reproduce) or the evaluation-only census "
                         "lists of scripts/eval_names.py")
    ap.add_argument("--miss-sources", default=None,
                    help="with --show-misses: print lost clinical sentences only when all their terms come from "
                         "these comma-separated sources (e.g. MDC,NEU,UMLS), so that a held-out source's misses "
                         "are never seen; PHI misses are printed as before")
    args = ap.parse_args()
    only = frozenset(args.miss_sources.split(",")) if args.miss_sources else None

    from deid.header.freetext import FreeTextCleaner, Verdict
    from deid.header.phi_text import load_scorer

    cleaner = FreeTextCleaner(frozenset(), load_scorer() if args.detector == "model" else None)
    n_epo = args.n // 5 if args.n_eponym is None else args.n_eponym
    data = make(args.part, args.n, args.n, n_epo, args.seed, names=args.names)
    tally, t0, sources = Tally(), time.monotonic(), term_sources(args.part)
    digest = hashlib.sha256()
    for s in data:
        res = cleaner.clean(s.text)
        digest.update(f"{res.verdict.value}\x00{res.text}\x00".encode())
        tally.removed_whole += res.verdict is Verdict.REMOVED
        for span in s.spans:
            left = span_left(s.text, span, res.text)
            tally.add_span(s, span, left)
            if left and args.show_misses:
                print(f"PHI LEFT [{span.kind} {span.locale}] {s.text!r} -> {res.text!r} "
                      f"span {s.text[span.start:span.end]!r}")
        if s.category != "phi" and not tally.add_sentence(s, res.text, sources) and args.show_misses \
                and _shown(s, sources, only):
            print(f"{s.category.upper()} LOST: {s.text!r} -> {res.text!r} ({res.verdict.value})")
    print(f"part {args.part}, seed {args.seed}, detector {args.detector}: {args.n} PHI + {args.n} clinical + "
          f"{n_epo} eponym sentences, {time.monotonic() - t0:.0f} s")
    report(tally, args.by_locale)
    if args.digest:
        print(f"  outputs digest (cleaned text and verdict of every sentence): {digest.hexdigest()}")


if __name__ == "__main__":
    main()
