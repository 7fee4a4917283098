"""scripts/make_export.py: the scale export is mixed, distinct, readable and reproducible."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pydicom
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_export", ROOT / "scripts" / "make_export.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_export"] = mod
    spec.loader.exec_module(mod)
    return mod


make_export = _load()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("export")
    return out, make_export.make_export(out, 60, seed=3, n_burned_templates=6)


def test_every_instance_is_a_readable_distinct_dicom_file(export: tuple[Path, dict]) -> None:
    out, manifest = export
    files = sorted(out.rglob("*.dcm"))
    assert len(files) == manifest["counts"]["instances"] == 60
    uids = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
    assert len(set(uids)) == len(files)
    assert len({f.read_bytes() for f in files}) == len(files)


def test_the_mix_has_burned_in_text_modalities_and_syntaxes(export: tuple[Path, dict]) -> None:
    counts = export[1]["counts"]
    assert 0.1 < counts["burned:True"] / counts["instances"] < 0.5
    assert len([k for k in counts if k.startswith("modality:")]) >= 4
    assert len([k for k in counts if k.startswith("syntax:")]) >= 4


def test_studies_group_instances_under_one_patient(export: tuple[Path, dict]) -> None:
    out, _ = export
    for study in sorted(p for p in out.iterdir() if p.is_dir()):
        heads = [pydicom.dcmread(f, stop_before_pixels=True) for f in study.glob("*.dcm")]
        assert len({h.StudyInstanceUID for h in heads}) == 1
        assert len({str(h.PatientID) for h in heads}) == 1


@pytest.mark.parametrize("n", [1, 7, 2000])
def test_study_sizes_sum_to_n_and_stay_within_1_to_500(n: int) -> None:
    import random

    sizes = make_export.study_sizes(n, random.Random(5))
    assert sum(sizes) == n and all(1 <= s <= make_export.MAX_STUDY for s in sizes)


def test_same_seed_same_export(tmp_path: Path) -> None:
    a = make_export.make_export(tmp_path / "a", 12, seed=4, burned_share=0.0)
    b = make_export.make_export(tmp_path / "b", 12, seed=4, burned_share=0.0)
    assert a == b
    for f in sorted((tmp_path / "a").rglob("*.dcm")):
        assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes()


def test_a_large_file_is_an_uncompressed_multiframe_cine(tmp_path: Path) -> None:
    frames = make_export.write_large(tmp_path / "big.dcm", 3, seed=1)
    ds = pydicom.dcmread(tmp_path / "big.dcm")
    assert int(ds.NumberOfFrames) == frames and ds.pixel_array.shape == (frames, 480, 640, 3)
    assert (tmp_path / "big.dcm").stat().st_size > 3 * 921_600
