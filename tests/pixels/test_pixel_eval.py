"""End-to-end on the INDEPENDENT generator (scripts/make_eval_pixels.py): every PHI line made illegible
and at least 90 % of the clinical lines kept, on a few small instances (CI-sized; the full set is
``scripts/eval_pixels.py independent``)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

# CT 12-bit signed, RGB ultrasound (RLE), MR 16-bit implicit, CT 16-bit JPEG 2000, MR 12-bit: the
# small frame specs of make_eval_pixels.SPECS (the 2-3k px CR/DX/MG frames take minutes each).
SMALL_SPECS = [0, 1, 3, 7, 11]


@pytest.mark.slow
def test_independent_set_targets(tmp_path: Path) -> None:
    from eval_pixels import Reader, report, score_instance
    from make_eval_pixels import generate

    from deid.pixels.stage import PixelConfig, PixelStage

    stage = PixelStage(PixelConfig())
    reader = Reader(stage)
    totals: dict = {}
    misses: list[str] = []
    for p in generate(tmp_path, 0, 505, indices=SMALL_SPECS):
        truth = json.loads(p.with_suffix(".json").read_text())
        cats = {"modality": truth["modality"], "syntax": truth["syntax"]}
        score_instance(stage, reader, p.name, pydicom.dcmread(p), truth["lines"], cats, totals, misses)
    phi, clin = totals[("all", "phi")], totals[("all", "clinical")]
    report(totals, misses, 1, 1.0, len(SMALL_SPECS))  # synthetic text: the misses are printed
    assert phi["n"] >= 30 and clin["n"] >= 15
    assert phi["ok"] == phi["n"], f"PHI lines still legible: {phi['n'] - phi['ok']} of {phi['n']}"
    assert clin["ok"] >= 0.9 * clin["n"], f"clinical lines kept: {clin['ok']}/{clin['n']}"
