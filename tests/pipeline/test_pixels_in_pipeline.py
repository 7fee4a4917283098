"""The pixel stage inside the Spark pipeline: burned-in PHI is redacted, audited and attested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from deltalake import DeltaTable

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


def test_burned_in_phi_redacted_in_pipeline(spark, tmp_path: Path, deid_key: str) -> None:
    export = tmp_path / "export"
    truths = _make_inputs(export, 3)
    for p in export.glob("*.json"):
        p.unlink()  # ground truth stays outside the export
    out = tmp_path / "out"
    cfg = DeidConfig(zones=ZonesConfig(input=str(export), output=str(out), raw=str(tmp_path / "raw"),
                                       crosswalk=str(tmp_path / "xw")))
    summary = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert summary.ok

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
    per_instance = red[red["action"] == "REDACT"].groupby("sop_instance_uid").size()
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


def test_review_table_is_in_phi_zone_only(spark, tmp_path: Path, deid_key: str) -> None:
    export = tmp_path / "export"
    _make_inputs(export, 2)
    for p in export.glob("*.json"):
        p.unlink()
    out = tmp_path / "out"
    cfg = DeidConfig(zones=ZonesConfig(input=str(export), output=str(out), raw=str(tmp_path / "raw"),
                                       crosswalk=str(tmp_path / "xw")))
    assert PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True).ok
    assert not (out / "tables" / "review").exists()
    review = tmp_path / "raw" / "tables" / "review"
    if review.exists():
        df = DeltaTable(str(review)).to_pandas()
        assert "text" not in df.columns
        assert np.all(df["w"] > 0)
