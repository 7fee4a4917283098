"""The pixel stage the pipeline calls: OCR, classify and redact burned-in text (PS3.15 E.3.1).

    stage = pixel_hook(config.pixels)                     # PixelStage, or HeaderOnly when disabled
    results = stage.process([PixelItem(key, original, target, identifiers, modality), ...])

It implements the pipeline's pixel contract (:mod:`deid.pipeline.hooks`). ``process`` batches OCR
across the frames of all items in the list and returns one :class:`PixelResult` per item; box text
never leaves this module (records carry geometry, label, score and a reason code). Statuses:
CLEANED (every frame checked; REDACT boxes filled in ``target``; no boxes when no text was found),
NO_PIXEL_DATA, DECLARED_NONE (modality listed in ``trust_burned_in_no`` and Burned In Annotation
(0028,0301) = NO: not OCR'd), UNVERIFIED with ``error`` set (the pipeline quarantines the instance:
pixels that cannot be decoded, rendered, OCR'd or re-encoded, and Float / Double Float Pixel Data,
which is not OCR'd).

Output transfer syntax per input syntax (only when a box was filled; Pixel Data without a box is kept,
once cleared of hidden channels, :func:`deid.pixels.redact.clean_kept`):

- Implicit VR Little Endian -> Implicit VR Little Endian
- Explicit VR Little/Big Endian, Deflated, Encapsulated Uncompressed -> Explicit VR Little Endian
- RLE Lossless -> RLE Lossless; JPEG-LS Lossless -> JPEG-LS Lossless;
  JPEG 2000 Lossless -> JPEG 2000 Lossless; JPEG 2000 (.91) not marked lossy -> JPEG 2000 Lossless
- JPEG Lossless (Process 14 / SV1), HTJ2K Lossless -> ``lossless_fallback_syntax`` (Explicit VR LE)
- JPEG Baseline/Extended, JPEG-LS Near-Lossless, lossy JPEG 2000/HTJ2K -> ``lossy_output_syntax``
  (Explicit VR LE), Lossy Image Compression (0028,2110) "01"
- any encoder failure -> Explicit VR Little Endian; YBR_FULL_422 is written as YBR_FULL.

Memory is bounded by a frame, not a file: frames are decoded one at a time (:func:`open_frames`;
native little endian data is a view), compared and rendered in order, and redacted while the target
is encoded or written (:func:`deid.pixels.redact.write_redacted`). The target's Pixel Data may then
be a buffer (pydicom buffered value) that reads the original dataset's frames: keep the original
until the target is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from deid.config.pixels import ExtremeRender, PixelConfig, RedactPolicy, Render
from deid.dicomio import has_pixel_data
from deid.errors import PixelError, Reason
from deid.pipeline.hooks import (
    BoxRecord,
    HeaderOnly,
    PixelHook,
    PixelItem,
    PixelResult,
    PixelStatus,
    ReviewRecord,
)
from deid.pixels.classify import Action, Decision, Thresholds, decide, load_allowlist, split_decisions
from deid.pixels.frames import Frames, open_frames
from deid.pixels.lexicon import load_lexicon
from deid.pixels.multiframe import frame_spans, iter_ocr_frames, mask_render, region_mask, us_data_regions
from deid.pixels.ocr import (
    OcrEngine,
    TextBox,
    TextPart,
    closer_pieces,
    get_engine,
    legible,
    merge_boxes,
    read_groups,
    unboxed_faint_regions,
)
from deid.pixels.redact import DecidedBox, clean_kept, fill_value, redaction_fills, write_redacted
from deid.pixels.renderings import renderings


@dataclass
class _Prepared:
    job: PixelItem
    frames: Frames
    spans: dict[int, range]
    found: dict[int, list[TextBox]] = field(default_factory=dict)


def pixel_hook(config: PixelConfig) -> PixelHook:
    """The pixel stage a run uses: ``pixels.enabled`` is decided here and only here.

    Disabled: :class:`HeaderOnly` (images stay UNVERIFIED, Patient Identity Removed NO, and the
    quality gate refuses to release them).
    """
    return PixelStage(config) if config.enabled else HeaderOnly()


CLOSER_MODES = (Render.FULL, Render.CLAHE)  # the closer look's renderings of a piece, on its own values
# (issue #12): its full range, which is a window set by the crop (it alone reads the three faint dev lines:
# "Age 21" 0.87, "Born ..." 0.61, "PID=..." 0.73), and its local equalisation (with the two local-contrast
# displays on > 8 bits): 2-4 reads per piece instead of 5-8 with the frame's whole set


class PixelStage:
    """OCR, classify and redact burned-in text (PS3.15 E.3.1); picklable, heavy parts built lazily.

    The OCR engine and the classifier are cached per Python worker (:func:`deid.pixels.ocr.get_engine`,
    :func:`deid.pixels.phi_model.get_phi_model`), so a copy unpickled in every task is cheap.
    """

    def __init__(self, config: PixelConfig | None = None, engine: OcrEngine | None = None,
                 classifier: object | None = None) -> None:
        self.config = config or PixelConfig()
        self._engine = engine
        self._classifier = classifier
        self._allow = load_allowlist(self.config.allowlist_path)
        self._lexicon = load_lexicon()
        low, high = self.config.review_band
        self._th = Thresholds(min_confidence=self.config.min_ocr_confidence,
                              phi_threshold=self.config.phi_threshold, review_low=low, review_high=high,
                              all_text=self.config.redact is RedactPolicy.ALL_TEXT)

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            o = self.config.ocr
            self._engine = get_engine(o.engine.value, o.batch_size, o.threads, o.use_gpu, o.easyocr_model_dir,
                                      o.det_limit_side_len, o.tile_size, o.tile_overlap, o.det_min_scale,
                                      o.small_text_scale, o.faint_seeds)
        return self._engine

    @property
    def classifier(self):  # type: ignore[no-untyped-def]
        if self._classifier is None and self.config.classifier.enabled:
            from deid.pixels.phi_model import get_phi_model

            c = self.config.classifier
            self._classifier = get_phi_model(c.model_dir, c.phi_labels, c.batch_size, c.threads, c.device)
        return self._classifier

    # ------------------------------------------------------------------ orchestration
    def process(self, items: list[PixelItem]) -> list[PixelResult]:
        results: dict[str, PixelResult] = {}
        prepared: list[_Prepared] = []
        queue: list[tuple[int, int, list[np.ndarray]]] = []
        for item in items:
            early = self._early_result(item)
            if early is not None:
                results[item.key] = early
                continue
            try:
                prep, images = self._prepare(item)
            except PixelError as err:
                results[item.key] = _failed(err)
                continue
            prepared.append(prep)
            queue.extend((len(prepared) - 1, f, img) for f, img in images)
        failed = self._run_ocr(prepared, queue)
        for idx, prep in enumerate(prepared):
            key = prep.job.key
            if idx in failed:
                results[key] = _failed(failed[idx])
                continue
            try:
                results[key] = self._finish(prep)
            except PixelError as err:
                results[key] = _failed(err)
        return [results[i.key] for i in items]

    def _early_result(self, item: PixelItem) -> PixelResult | None:
        if not has_pixel_data(item.original):
            return PixelResult(PixelStatus.NO_PIXEL_DATA)
        if "PixelData" not in item.original:
            return _failed(PixelError(Reason.PIXELS_UNVERIFIED, "Float / Double Float Pixel Data "
                                      "(7FE0,0008/0009) is not checked for burned-in text"))
        trusted = {m.upper() for m in self.config.trust_burned_in_no}
        bia = str(item.original.get("BurnedInAnnotation", "")).strip().upper()
        if item.modality.upper() in trusted and bia == "NO":
            try:  # not OCR'd, but hidden channels are still cleared (deid.pixels.redact.clean_kept)
                return PixelResult(PixelStatus.DECLARED_NONE, output_syntax=self._kept(item, None))
            except PixelError as err:
                return _failed(err)
        return None

    def _kept(self, job: PixelItem, frames: Frames | None) -> str | None:
        """Pixel Data released without a box keeps only what its decoded frames show (clean_kept)."""
        try:
            syntax = clean_kept(job.target, job.original, frames, self.config.lossless_fallback_syntax.uid,
                                self.config.lossy_output_syntax.uid)
        except (AttributeError, TypeError, ValueError) as exc:
            raise PixelError(Reason.PIXEL_DECODE_FAILED,
                             f"pixel data cannot be checked ({exc.__class__.__name__})") from None
        return None if syntax is None else str(syntax)

    def _renders(self) -> tuple[Render, ...]:
        """The configured rendering set (deid.pixels.renderings); ``extreme_render: always`` adds the
        max-value mask (``auto`` no longer adds it: the histogram windows cover text at the maximum)."""
        modes = list(dict.fromkeys(self.config.renders))
        if Render.EXTREME not in modes and self.config.extreme_render is ExtremeRender.ALWAYS:
            modes.append(Render.EXTREME)
        return tuple(modes)

    def _prepare(self, job: PixelItem) -> tuple[_Prepared, list[tuple[int, list[np.ndarray]]]]:
        frames = open_frames(job.original)  # frame by frame: never every decoded frame at once
        regions = [] if self.config.ocr_us_data_regions else us_data_regions(job.original, frames.rows,
                                                                              frames.columns)
        mask = region_mask(frames.rows, frames.columns, regions)
        selected: list[int] = []
        images: list[tuple[int, list[np.ndarray]]] = []
        modes = self._renders()
        # each chosen frame is rendered as soon as it is chosen, while the loader still holds it:
        # a compressed multi-frame instance is decoded once for OCR, not twice
        for f in iter_ocr_frames(frames, mask, frames.bits_stored, self.config.frame_diff_delta,
                                 self.config.frame_diff_min_pixels, self.config.ocr_every_frame):
            selected.append(f)
            try:
                images.append((f, [mask_render(r, mask) for r in renderings(frames, f, job.original, modes)]))
            except (ValueError, TypeError, IndexError) as exc:  # decoding failures are PixelErrors already
                raise PixelError(Reason.PIXEL_DECODE_FAILED,
                                 f"a frame cannot be rendered for OCR ({exc.__class__.__name__})") from None
        return _Prepared(job, frames, frame_spans(selected, frames.count)), images

    def _run_ocr(self, prepared: list[_Prepared],
                 queue: list[tuple[int, int, list[np.ndarray]]]) -> dict[int, PixelError]:
        """The lines of every queued frame from its renderings (:func:`deid.pixels.ocr.read_groups`:
        engines with ``read_groups`` merge the renderings themselves, one recognition per line)."""
        failed: dict[int, PixelError] = {}
        size = self.config.ocr.batch_size
        for start in range(0, len(queue), size):
            chunk = queue[start:start + size]
            try:
                results = read_groups(self.engine, [imgs for _, _, imgs in chunk])
            except PixelError as err:
                for p, _, _ in chunk:
                    failed[p] = err
                continue
            for (p, f, imgs), boxes in zip(chunk, results, strict=True):
                found = prepared[p].found
                found[f] = merge_boxes(found.get(f, []), boxes)
                try:
                    found[f] = merge_boxes(found[f], self._look_closer(prepared[p], f, imgs, found[f]))
                except PixelError as err:
                    failed[p] = err
        return failed

    def _look_closer(self, prep: _Prepared, f: int, imgs: list[np.ndarray], found: list[TextBox]) -> list[TextBox]:
        """Legible lines (:func:`deid.pixels.ocr.legible`) read in crops of faint text that no pass
        boxed (:func:`deid.pixels.ocr.unboxed_faint_regions`: small frames only), each crop rendered on
        its own values, issue #12: a faint line the frame's display windows leave at noise level stands
        out in a window of its own surroundings. The detector marks a faint 6-px line in no rendering
        at any enlargement tried (dev seed 939; 17x43 crop, 4-40x), but the recognizer reads it from the
        crop itself, so each piece (:func:`deid.pixels.ocr.closer_pieces`) is read by the recognizer
        alone on each of its renderings (:data:`CLOSER_MODES`) and its most confident reading kept: at
        most CLOSER_READS recognitions per rendering and frame, no detection. A legible reading becomes a box over its
        piece and goes through header matching and classification like any other line. Only engines
        with a line reader (``read_lines``)."""
        reader = getattr(self.engine, "read_lines", None)
        if reader is None or prep.frames is None:
            return []
        pieces = closer_pieces(unboxed_faint_regions(imgs, found))
        if not pieces:
            return []
        frames = prep.frames
        frame = frames.frame(f)
        groups: list[list[np.ndarray]] = []
        for y0, x0, y1, x1 in pieces:
            sub = replace(frames, pixels=np.ascontiguousarray(frame[np.newaxis, y0:y1, x0:x1]), loader=None,
                          frame_count=0)
            try:
                groups.append(renderings(sub, 0, prep.job.original, CLOSER_MODES))
            except (ValueError, TypeError, IndexError) as exc:
                raise PixelError(Reason.PIXEL_DECODE_FAILED,
                                 f"a crop cannot be rendered for OCR ({exc.__class__.__name__})") from None
        reads = reader([im for g in groups for im in g])
        out: list[TextBox] = []
        pos = 0
        for (y0, x0, y1, x1), g in zip(pieces, groups, strict=True):
            text, conf = max(reads[pos:pos + len(g)], key=lambda r: r[1], default=("", 0.0))
            pos += len(g)
            box = TextBox(x0, y0, x1 - x0, y1 - y0, text, conf)
            if legible(box):
                out.append(box)
        return out

    # ------------------------------------------------------------------ per instance
    def _decide_all(self, prep: _Prepared) -> dict[int, list[tuple[TextBox, Decision]]]:
        job, th = prep.job, self._th
        pending: list[tuple[int, int, TextBox]] = []
        decided: dict[int, list[tuple[TextBox, Decision]]] = {}
        for f, boxes in prep.found.items():
            decided[f] = []
            for box in boxes:  # no size exemption: every detection is matched and classified
                d = decide(box.text, box.confidence, job.identifiers, self._allow, None, th, self._lexicon,
                           (box.w, box.h))
                if d.reason == "not_recognised" and self.classifier is not None:
                    pending.append((f, len(decided[f]), box))
                decided[f].append((box, d))
        if pending:
            scores = self.classifier.score([b.text for _, _, b in pending])  # type: ignore[union-attr]
            for (f, i, box), s in zip(pending, scores, strict=False):
                decided[f][i] = (box, decide(box.text, box.confidence, job.identifiers, self._allow, float(s), th,
                                             self._lexicon, (box.w, box.h)))
        decided = self._split_columns(job, decided)
        tall = self.config.max_text_height
        return {f: [(b, replace(d, review=True) if b.h > tall else d) for b, d in pairs]
                for f, pairs in decided.items()}

    def _split_columns(self, job: PixelItem, prep_decided: dict[int, list[tuple[TextBox, Decision]]]
                       ) -> dict[int, list[tuple[TextBox, Decision]]]:
        """Lines with columns (:attr:`TextBox.parts`) decided per column where
        :func:`deid.pixels.classify.split_decisions` says so: each column becomes its own box."""
        th = self._th
        todo = [(f, i, b) for f, pairs in prep_decided.items() for i, (b, _) in enumerate(pairs) if b.parts]
        if not todo:
            return prep_decided
        part_ds: dict[tuple[int, int], list[Decision]] = {}
        pending: list[tuple[tuple[int, int], int, TextPart, int]] = []
        for f, i, b in todo:
            ds = []
            for k, p in enumerate(b.parts):
                d = decide(p.text, p.confidence, job.identifiers, self._allow, None, th, self._lexicon, (p.w, b.h))
                if d.reason == "not_recognised" and self.classifier is not None:
                    pending.append(((f, i), k, p, b.h))
                ds.append(d)
            part_ds[(f, i)] = ds
        if pending:
            scores = self.classifier.score([p.text for _, _, p, _ in pending])  # type: ignore[union-attr]
            for (key, k, p, h), s in zip(pending, scores, strict=False):
                part_ds[key][k] = decide(p.text, p.confidence, job.identifiers, self._allow, float(s), th,
                                         self._lexicon, (p.w, h))
        out: dict[int, list[tuple[TextBox, Decision]]] = {}
        for f, pairs in prep_decided.items():
            out[f] = []
            for i, (b, d) in enumerate(pairs):
                split = split_decisions(d, part_ds[(f, i)]) if (f, i) in part_ds else None
                if split is None:
                    out[f].append((b, d))
                    continue
                out[f].extend((TextBox(p.x, b.y, p.w, b.h, p.text, p.confidence), pd)
                              for p, pd in zip(b.parts, split, strict=True))
        return out

    def _finish(self, prep: _Prepared) -> PixelResult:
        job, frames = prep.job, prep.frames
        if not any(prep.found.values()):  # every frame checked, no text
            return PixelResult(PixelStatus.CLEANED, output_syntax=self._kept(job, frames))
        decided = self._decide_all(prep)
        model_version = getattr(self._classifier, "version", "none") if self._classifier is not None else "none"
        eng = self.engine
        records: list[BoxRecord] = []
        review: list[ReviewRecord] = []
        fills: dict[int, list[tuple[int, int, int, int]]] = {}
        for f in sorted(decided):
            for box, d in decided[f]:
                records.append(BoxRecord(f, box.x, box.y, box.w, box.h, d.label.value, round(d.score, 4),
                                         d.action.value, d.reason, eng.name, eng.version, model_version))
                if d.review:
                    review.append(ReviewRecord(f, box.x, box.y, box.w, box.h, d.label.value,
                                               round(d.score, 4), d.model_score, d.reason, job.key))
            regions = redaction_fills([DecidedBox((b.x, b.y, b.w, b.h), d.action is Action.REDACT, b.text, d.firm,
                                                  d.vouched, d.reason == "short_reading") for b, d in decided[f]],
                                      self.config.padding, frames.rows, frames.columns)
            for g in prep.spans[f] if regions else ():
                fills.setdefault(g, []).extend(regions)
        syntax: str | None = None
        if fills:  # filled frame by frame while the target is encoded or written (deid.pixels.redact)
            syntax = str(write_redacted(job.target, job.original, frames, fills,
                                        fill_value(frames, job.original),
                                        self.config.lossless_fallback_syntax.uid,
                                        self.config.lossy_output_syntax.uid))
        else:
            syntax = self._kept(job, frames)
        return PixelResult(PixelStatus.CLEANED, records, review, None, syntax)


def _failed(err: PixelError) -> PixelResult:
    return PixelResult(PixelStatus.UNVERIFIED, error=err)
