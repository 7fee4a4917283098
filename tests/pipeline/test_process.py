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
