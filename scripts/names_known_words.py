"""How many real person names the product takes for known (non-identifying) words: a measurement.

Reads the evaluation-only census name lists (``scripts/eval_names.py``: 5,163 first names, 88,799
surnames of the 1990 US Census) and counts, for first names and surnames separately, how many are in
each of the product's known-word sources, by lower-case form (so "Rose" and "rose" count alike):

* ``common_words``: ``deid/header/data/common_words.txt``;
* ``lexicon_words``: ``deid/header/data/lexicon_words.txt`` (the free-text cleaner trusts it in lower
  case only);
* ``pixel lexicon``: the words of ``deid/pixels/models/clinical_lexicon.txt`` (clinical words and its
  "=" common words), exact; ``pixel lexicon ~1 edit``: :meth:`deid.pixels.lexicon.Lexicon.known` as the
  pixel stage calls it (one edit away from a clinical word of 6+ letters counts too);
* ``concept words``: the words of :func:`deid.textmatch.concept_meanings` (PS3.16 code meanings of
  the product's schemes), normalised by :func:`deid.textmatch.normalise`;
* ``DICOM vocabulary``: :func:`deid.textmatch.vocabulary` (PS3.6 names, lower-case code meanings,
  UCUM, UID names);
* ``any``: the union of all the above;
* ``any, not a Faker name``: of those, the names no Faker locale lists as a first or last name (the
  product's lists subtract Faker's names, so these are the real names its known words still hold).

Unweighted: names / listed names. Weighted: the share of the population (census frequency; surnames'
"0.000 %" tail as in ``eval_names.py``; both sexes equally for first names). A name in these sources
would be trusted as non-PHI where the product trusts the source and the name stands alone. Nothing here
changes the product; nothing is tuned on it.

    python scripts/names_known_words.py [--examples 15]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_names import NameList, first_names, surnames, written  # noqa: E402

from deid.pixels.lexicon import load_lexicon  # noqa: E402
from deid.textmatch import concept_meanings, normalise, vocabulary  # noqa: E402


def _data(name: str) -> frozenset[str]:
    return frozenset(resources.files("deid.header").joinpath(f"data/{name}").read_text("utf-8").split())


def sources() -> dict[str, Callable[[str], bool]]:
    """Source name -> membership test on a lower-case word."""
    lex = load_lexicon()
    if lex is None:
        raise SystemExit("the pixel lexicon is missing")
    common, lexicon = _data("common_words.txt"), _data("lexicon_words.txt")
    pixel = lex.words | lex.exact
    concept = frozenset(w for _s, _c, meaning in concept_meanings() for w in normalise(meaning).split())
    vocab = vocabulary()
    tests: dict[str, Callable[[str], bool]] = {
        "common_words": common.__contains__, "lexicon_words": lexicon.__contains__,
        "pixel lexicon": pixel.__contains__, "pixel lexicon ~1 edit": lex.known,
        "concept words": concept.__contains__, "DICOM vocabulary": vocab.__contains__}
    plain = [t for k, t in tests.items() if k != "pixel lexicon ~1 edit"]
    tests["any (exact)"] = lambda w: any(t(w) for t in plain)
    tests["any"] = lambda w: tests["any (exact)"](w) or lex.known(w)
    return tests


def measure(names: NameList, tests: dict[str, Callable[[str], bool]]) -> dict[str, list[int]]:
    """Source -> indices of the names it knows."""
    hits: dict[str, list[int]] = {k: [] for k in tests}
    for i, n in enumerate(names.names):
        w = n.lower()
        for k, t in tests.items():
            if k in ("pixel lexicon ~1 edit", "any") and len(w) >= 6:
                continue  # filled by _one_edit_hits (one-edit lookups are slow)
            if t(w):
                hits[k].append(i)
    return hits


def _one_edit_hits(names: NameList, tests: dict[str, Callable[[str], bool]], hits: dict[str, list[int]]) -> None:
    """Names of 6+ letters for the sources with the pixel lexicon's one-edit tolerance (a deletion
    index narrows the candidates; the product's own ``known`` decides)."""
    lex = load_lexicon()
    assert lex is not None
    index: dict[str, set[str]] = {}
    for w in lex.words:
        if len(w) >= 5:
            for d in {w} | {w[:j] + w[j + 1:] for j in range(len(w))}:
                index.setdefault(d, set()).add(w)
    for i, n in enumerate(names.names):
        w = n.lower()
        if len(w) < 6:
            continue
        keys = {w} | {w[:j] + w[j + 1:] for j in range(len(w))}
        one_edit = w in lex.words or w in lex.exact or (any(index.get(k) for k in keys) and lex.known(w))
        if one_edit:
            hits["pixel lexicon ~1 edit"].append(i)
        if one_edit or tests["any (exact)"](w):
            hits["any"].append(i)


def faker_names() -> frozenset[str]:
    """Every first and last name of every Faker locale's person provider, lower case."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    out: set[str] = set()
    for info in pkgutil.iter_modules(person.__path__):
        provider = getattr(importlib.import_module(f"faker.providers.person.{info.name}"), "Provider", None)
        for attr in dir(provider) if provider is not None else ():
            value = getattr(provider, attr)
            if ("first_name" in attr or "last_name" in attr) and isinstance(value, (tuple, list, dict)):
                out.update(str(x).lower() for x in value)
    return frozenset(out)


def report(title: str, names: NameList, hits: dict[str, list[int]], examples: int) -> None:
    total_w = sum(names.weights)
    print(f"{title}: {len(names.names)} names")
    print(f"  {'source':<24} {'names':>16} {'population share':>17}")
    for k, idx in hits.items():
        share = sum(names.weights[i] for i in idx) / total_w
        print(f"  {k:<24} {len(idx):>7} = {len(idx) / len(names.names):6.1%} {share:>16.1%}")
    for key in ("any", "any, not a Faker name"):
        top = sorted(hits[key], key=lambda i: -names.weights[i])[:examples]
        print(f"  most frequent [{key}]: " + ", ".join(written(names.names[i]) for i in top))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=15)
    args = ap.parse_args()
    tests = sources()
    for title, names in (("first names", first_names()), ("surnames", surnames())):
        hits = measure(names, tests)
        _one_edit_hits(names, tests, hits)
        fk = faker_names()
        hits["any, not a Faker name"] = [i for i in hits["any"] if names.names[i].lower() not in fk]
        report(title, names, hits, args.examples)


if __name__ == "__main__":
    main()
