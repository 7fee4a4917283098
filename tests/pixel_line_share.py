"""One generated evaluation line through the pixel stage with a module setting at several values:
the share of the line's pixels the stage changed at each (shared by the small-text tests under
``tests/pixels``, issue #12)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pydicom
import pytest

from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels.frames import decode_frames
from deid.pixels.ocr import RapidOcrEngine
from deid.pixels.stage import PixelConfig, PixelStage


def changed_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, index: int,
                  pick: Callable[[dict[str, Any]], bool], module: object, name: str,
                  values: Iterable[float]) -> dict[float, float]:
    """Instance ``index`` of ``make_eval_pixels`` dev seed ``seed``; its first line that ``pick``
    chooses; per value of ``module.name``, the share of that line's pixels the stage changed."""
    from make_eval_pixels import generate

    (path,) = generate(tmp_path, 0, seed, indices=[index])
    line = next(x for x in json.loads(path.with_suffix(".json").read_text())["lines"] if pick(x))
    region = (slice(line["y"], line["y"] + line["h"]), slice(line["x"], line["x"] + line["w"]))
    before = decode_frames(pydicom.dcmread(path)).pixels[0][region].copy()
    changed = {}
    for value in values:
        monkeypatch.setattr(module, name, value)
        ds = pydicom.dcmread(path)
        stage = PixelStage(PixelConfig(), engine=RapidOcrEngine(batch_size=4))
        job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "MR")
        (res,) = stage.process([job])
        assert res.error is None
        changed[value] = float((decode_frames(job.target).pixels[0][region] != before).mean())
    return changed
