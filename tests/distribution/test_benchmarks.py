"""benchmarks/run_all.py and bench_memory.py: generator, RSS watcher, parsing, projection, report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pydicom
import pytest
from distribution_helpers import load_module

bench_memory = load_module("benchmarks/bench_memory.py", "bench_memory")
run_all = load_module("benchmarks/run_all.py", "run_all")


@pytest.mark.parametrize("modality", ["US", "XA"])
def test_cine_is_a_readable_uncompressed_multiframe_of_the_asked_size(tmp_path: Path, modality: str) -> None:
    path = tmp_path / "c.dcm"
    frames = bench_memory.write_cine(path, 5, modality)
    ds = pydicom.dcmread(path)
    assert ds.Modality == modality and int(ds.NumberOfFrames) == frames == 4
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.pixel_array.shape == (frames, bench_memory.ROWS, bench_memory.COLS)
    assert 4_000_000 < path.stat().st_size < 5_000_000


def test_watch_sees_memory_of_grandchildren() -> None:
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time; b = bytearray(200 * 1024 * 1024); b[::4096] = b\"x\" * len(b[::4096]); "
            "time.sleep(1.5)'])")
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = bench_memory.watch(proc, interval=0.05)
    assert proc.returncode == 0
    assert peak.total_kb > 200 * 1024
    assert peak.by_kind["python"] > 200 * 1024
    assert peak.samples > 5


OCR_OUT = """measure                  | value | detail
OCR batch 1              | 2.50 frames/s | 16 frames 6.4s
OCR batch 8              | 3.20 frames/s | 16 frames 5.0s
strategy: changed frames | 9/100 OCR'd | 4.1s recall 1.000
{"phi_boxes": 3, "boxes": 5}
"""


def test_parse_ocr() -> None:
    d = run_all.parse_ocr(OCR_OUT)
    assert d["frames_per_s_by_batch"] == {1: 2.5, 8: 3.2}
    assert d["best_frames_per_s"] == 3.2
    assert d["rows"]["strategy: changed frames"]["value"] == "9/100 OCR'd"


def _results(per_s: float = 2.0, ocr_fps: float = 4.0) -> dict[str, Any]:
    return {"spark": {"ok": True, "data": {"pixels": True, "header_only_files_per_s": 100.0, "runs": [
                {"master": "local[1]", "instances_per_s": per_s / 2, "instances": 10},
                {"master": "local[2]", "instances_per_s": per_s, "instances": 10}]}},
            "ocr": {"ok": True, "data": {"rows": {}, "best_frames_per_s": ocr_fps}}}


def test_no_gpu_figure_no_projection() -> None:
    e2e = run_all.end_to_end(_results(), None, 8)
    assert e2e["instances_per_hour_this_machine"] == 7200
    assert e2e["instances_per_hour_per_gpu_node"] is None and "no GPU OCR figure" in e2e["note"]


@pytest.mark.parametrize(("gpu_fps", "vcpus", "expected_factor"), [
    (400.0, 8, 8 / 2),   # GPU far faster: the node's cores limit
    (8.0, 8, 2.0),       # GPU only 2x the CPU OCR: OCR limits
])
def test_projection_is_the_smaller_scaling_factor(monkeypatch: pytest.MonkeyPatch, gpu_fps: float,
                                                  vcpus: int, expected_factor: float) -> None:
    monkeypatch.setattr(run_all.os, "cpu_count", lambda: 2)
    e2e = run_all.end_to_end(_results(), gpu_fps, vcpus)
    assert e2e["instances_per_hour_per_gpu_node"] == round(7200 * expected_factor)


def test_markdown_lists_failures_and_missing_projection() -> None:
    doc = {"quick": True, "finished_at": "t", "machine": {"cores": 2, "platform": "p", "python": "3"},
           "benchmarks": {"header": {"ok": False, "error": "boom"}, **_results()},
           "end_to_end": run_all.end_to_end(_results(), None, 8)}
    doc["benchmarks"]["ocr"]["data"]["rows"] = {"OCR batch 8": {"value": "4.00 frames/s", "detail": "d"}}
    md = run_all.markdown(doc)
    assert "| header | failed | boom |" in md
    assert "| end to end | instances/hour per GPU node | not measured |" in md
    assert "| pipeline (pixels on) | local[2] instances/s | 2.0 |" in md
