"""Fixtures for the pixel stage: bundled pydicom files, generated synthetic instances, a scripted engine."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont

from deid.pixels.ocr import TextBox
from deid.samples import SHARED_DATA

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))


def bundled(name: str) -> pydicom.Dataset:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not bundled")
    return pydicom.dcmread(str(path))


def shared(rel: str) -> pydicom.Dataset:
    path = SHARED_DATA / rel
    if not path.is_file():
        pytest.skip(f"shared data file {rel} is absent")
    return pydicom.dcmread(path)


class ScriptedEngine:
    """OCR engine double: returns the boxes a test scripts for each image call, counts batches."""

    name = "scripted"
    version = "0"

    def __init__(self, script=None) -> None:  # type: ignore[no-untyped-def]
        self.script = script or (lambda img: [])
        self.calls: list[int] = []

    def read(self, images: list[np.ndarray]) -> list[list[TextBox]]:
        self.calls.append(len(images))
        return [self.script(img) for img in images]


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from make_synthetic import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, 13, 7)  # one instance per (modality, syntax, photometric) spec
    return out


def text_image(lines: list[tuple[str, int, int]], shape: tuple[int, int] = (200, 400)) -> np.ndarray:
    """An RGB frame with light text lines at (x, y), PIL's default font at 18 px."""
    img = Image.new("RGB", (shape[1], shape[0]), (0, 0, 0))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=18)
    for text, x, y in lines:
        draw.text((x, y), text, fill=(230, 230, 230), font=font)
    return np.asarray(img)
