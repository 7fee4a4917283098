"""The de-identify task body (deid.pipeline.process) without Spark: a large input is held once."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_testdata_file

from deid.header.profile import load_profile
from deid.keys import KeyRing
from deid.pipeline.process import ProcessParams, _process_blob, process_rows


def _params(tmp_path: Path, keyring: KeyRing) -> ProcessParams:
    return ProcessParams(run_id="r", profile=load_profile("research"), keyring=keyring,
                         staging=str(tmp_path / "staging"))


def test_each_row_is_consumed_once_parsed_and_the_staged_file_is_written(tmp_path: Path,
                                                                       test_keyring: KeyRing) -> None:
    data = Path(str(get_testdata_file("CT_small.dcm"))).read_bytes()
    rows = [("a" * 64, data), ("b" * 64, b"not a DICOM file at all" * 8)]
    out = process_rows(_params(tmp_path, test_keyring), rows)
    assert [r["outcome"] for r in out] == ["ok", "quarantine"]
    assert rows == [("a" * 64, b""), ("b" * 64, b"")]  # the input bytes are not held to the end
    staged = tmp_path / "staging" / "files" / f"{'a' * 64}.dcm"
    written = [p for p in (tmp_path / "staging").rglob("*.dcm")]
    assert len(written) == 1 and written[0].stat().st_size > 0, staged


def test_blob_input_is_processed_and_a_missing_blob_is_quarantined(tmp_path: Path,
                                                                 test_keyring: KeyRing) -> None:
    src = str(get_testdata_file("CT_small.dcm"))
    params = _params(tmp_path, test_keyring)
    assert [r["outcome"] for r in _process_blob(params, "c" * 64, src)] == ["ok"]
    missing = _process_blob(params, "d" * 64, str(tmp_path / "gone.dcm"))
    assert [r["outcome"] for r in missing] == ["quarantine"]


_NEEDLE_FILES = ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "SC_rgb_small_odd.dcm",
                 "ExplVR_BigEnd.dcm", "reportsi.dcm", "rtstruct.dcm", "UN_sequence.dcm")


def test_the_task_stages_the_gates_needles_and_writes_the_same_files(tmp_path: Path,
                                                                    test_keyring: KeyRing) -> None:
    """The gate's needles made in the de-identify task (issue #11: no second read of the originals) are
    the ones the gate made by reading each original again (``needle_batches``), for released and
    quarantined inputs alike, and asking for them changes nothing else the task writes."""
    import pandas as pd

    from deid.quality.verify import needle_batches

    kinds = ("person_name", "id", "date", "uid", "institution", "address", "phone", "other")
    profile = load_profile("research")
    data = [Path(str(get_testdata_file(n))).read_bytes() for n in _NEEDLE_FILES]
    data.append(data[0][:-4000])  # read, then quarantined (truncated pixel data)
    shas = [f"{i:064d}" for i in range(len(data))]
    plain = process_rows(_params(tmp_path / "a", test_keyring), list(zip(shas, data, strict=True)))
    params = ProcessParams(run_id="r", profile=profile, keyring=test_keyring, staging=str(tmp_path / "b"),
                           needle_kinds=kinds)
    staged = process_rows(params, list(zip(shas, data, strict=True)))
    assert all(not r.get("needles") for r in plain)
    assert [{k: v for k, v in r.items() if k != "needles"} for r in staged] == [
        {k: v for k, v in r.items() if k != "needles"} for r in plain]
    for sha in shas:
        a, b = tmp_path / "a" / "files" / f"{sha}.dcm", tmp_path / "b" / "files" / f"{sha}.dcm"
        assert a.is_file() == b.is_file() and (not a.is_file() or a.read_bytes() == b.read_bytes())
    assert {r["outcome"] for r in staged} == {"ok", "quarantine"}
    for sha, content, row in zip(shas, data, staged, strict=True):
        batch = pd.DataFrame({"sha256": [sha], "content": [content], "blob_path": [None]})
        reread = {(bytes(n), k) for out in needle_batches(iter([batch]), test_keyring, profile, kinds)
                  for n, k in zip(out["needle"], out["kind"], strict=True)}
        assert {(n["needle"], n["kind"]) for n in row.get("needles", [])} == reread, row["outcome"]
        assert reread or row["outcome"] == "quarantine"
