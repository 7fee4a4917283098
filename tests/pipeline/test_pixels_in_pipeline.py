"""The pixel stage inside the Spark pipeline: burned-in PHI is redacted, audited and attested."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from deltalake import DeltaTable
from fixture_key import TEST_KEY

from deid.config import DeidConfig, ZonesConfig
from deid.header.pseudonyms import remap_uid
from deid.keys import KeyRing
from deid.pipeline.runner import PipelineRun

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _make_inputs(dest: Path, n: int) -> list[dict]:  # type: ignore[type-arg]
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_synthetic.py"), str(dest), "--n", str(n),
                    "--seed", "11"], check=True, capture_output=True)
    return [json.loads(p.read_text()) for p in sorted(dest.glob("*.json"))]


@dataclass(frozen=True)
class PixelRun:
    """One pipeline run over synthetic images with burned-in PHI (ground truth kept outside the export)."""

    root: Path
    export: Path
    truths: list[dict]  # type: ignore[type-arg]
    ok: bool


@pytest.fixture(scope="module")
def pixel_run(spark, tmp_path_factory: pytest.TempPathFactory) -> PixelRun:  # type: ignore[no-untyped-def]
    """The run both tests read (a full run with pixels and the gate costs tens of seconds of CI)."""
    root = tmp_path_factory.mktemp("pixels-in-pipeline")
    export = root / "export"
    truths = _make_inputs(export, 3)
    for p in export.glob("*.json"):
        p.unlink()  # ground truth stays outside the export
    cfg = DeidConfig(zones=ZonesConfig(input=str(export), output=str(root / "out"), raw=str(root / "raw"),
                                       crosswalk=str(root / "xw")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEID_KEY", TEST_KEY)
        ok = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True).ok
    return PixelRun(root, export, truths, ok)


def test_burned_in_phi_redacted_in_pipeline(pixel_run: PixelRun, deid_key: str) -> None:
    tmp_path, export, truths = pixel_run.root, pixel_run.export, pixel_run.truths
    out = tmp_path / "out"
    assert pixel_run.ok

    md = DeltaTable(str(out / "tables" / "metadata")).to_pandas()
    q = DeltaTable(str(tmp_path / "raw" / "tables" / "quarantine")).to_pandas()
    assert len(md) + len(q) == len(truths)
    assert len(md) >= 1
    assert set(md["burned_in_status"]) <= {"cleaned", "declared_none", "no_pixel_data"}
    assert md["patient_identity_removed"].all()
    red = DeltaTable(str(out / "tables" / "redactions")).to_pandas()
    assert set(red.columns) >= {"sop_instance_uid", "frame", "x", "y", "w", "h", "label", "score",
                                "action", "engine", "engine_version", "model_version"}
    assert "text" not in red.columns
    assert set(red["sop_instance_uid"]) <= set(md["sop_instance_uid"])
    assert set(red["action"]) <= {"REDACT", "KEEP"}
    per_instance = red[red["action"] == "REDACT"].groupby("sop_instance_uid").size()
    assert per_instance.sum() > 0, "the synthetic inputs carry burned-in PHI: some boxes must be redacted"
    assert md["redacted_regions"].sum() == per_instance.sum() > 0
    for _, row in md.iterrows():
        assert row["redacted_regions"] == per_instance.get(row["sop_instance_uid"], 0)

    # every PHI box of the ground truth lies in a filled (uniform) region of the output pixels
    keys = KeyRing(bytes.fromhex(deid_key))
    truth_by_uid = {}
    for t in truths:
        original = pydicom.dcmread(export / t["file"])
        truth_by_uid[remap_uid(keys, str(original.SOPInstanceUID))] = t
    checked = 0
    for _, row in md.iterrows():
        ds = pydicom.dcmread(out / row["output_path"])
        assert ds.BurnedInAnnotation == "NO"
        assert "113101" in [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
        assert ds.PatientIdentityRemoved == "YES"
        arr = ds.pixel_array
        frames = arr if int(ds.get("NumberOfFrames", 1) or 1) > 1 else arr[None]
        for box in truth_by_uid[row["sop_instance_uid"]]["boxes"]:
            if not box["phi"]:
                continue
            for f in range(box["first_frame"], box["last_frame"] + 1):
                patch = frames[f, box["y"] + 1: box["y"] + box["h"] - 1, box["x"] + 1: box["x"] + box["w"] - 1]
                assert patch.size and np.ptp(patch.reshape(-1, *patch.shape[2:]), axis=0).max() == 0, \
                    "a PHI text box is not fully filled"
                checked += 1
    assert checked > 0


def test_review_table_is_in_phi_zone_only(pixel_run: PixelRun) -> None:
    tmp_path, out = pixel_run.root, pixel_run.root / "out"
    assert pixel_run.ok
    assert not (out / "tables" / "review").exists()
    review = tmp_path / "raw" / "tables" / "review"
    if review.exists():
        df = DeltaTable(str(review)).to_pandas()
        assert "text" not in df.columns
        assert np.all(df["w"] > 0)


@pytest.mark.parametrize("actions,expected", [
    (("REDACT", "REDACT", "KEEP"), 2),
    (("KEEP",), 0),
    ((), 0),
])
def test_redacted_regions_counts_redact_boxes(actions: tuple[str, ...], expected: int) -> None:
    """The count stored in ``metadata.redacted_regions`` is the number of REDACT boxes (no Spark)."""
    from deid.header.attest import PixelStatus
    from deid.pipeline.hooks import BoxRecord, PixelResult
    from deid.pixels.classify import Action

    boxes = [BoxRecord(0, 1, 2, 30, 8, "PHI" if a == "REDACT" else "SAFE", 0.9, a, "rule_date", "rapidocr",
                       "1", "none") for a in actions]
    assert {b.action for b in boxes} <= {a.value for a in Action}
    result = PixelResult(PixelStatus.CLEANED, boxes)
    assert result.redacted_regions == expected
