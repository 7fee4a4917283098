"""The set of displays of one frame that the text detector sees (PS3.15 E.3.1: find every legible line).

A stored window (Window Center/Width, 0028,1050-1051) is what one viewer shows, not what a reader can
make legible: real files hold 0-255 data under a 0-4095 window, and burned-in text may be drawn at any
grey level, darker than the anatomy behind it, or barely above the noise. So each frame is shown to
the detector several ways, every one derived from the frame's OWN value distribution (after the
Modality LUT, PS3.3 C.11.1; MONOCHROME1 negated so that higher is brighter, C.7.6.3.1.2):

========== ============================================================= =====================
rendering  why it is there                                               when it is made
========== ============================================================= =====================
full       min-max of the values: text at the frame maximum, overlays    always
           drawn on dark backgrounds (the common case)
window     2-3 windows spread over the value histogram (quantiles        configured; grey
           0.5-45 %, 30-75 %, 55-99.5 %): text drawn at a mid grey,       frames > 8 bits whose
           above or below the anatomy, becomes high-contrast in the one   window differs from
           window that holds it and its background                       full range and that
                                                                         the noise rule keeps
inverted   the full range negated: dark text on bright tissue becomes     configured; more than
           bright on dark (the recogniser reads both, the detector is     8 bits stored, kept
           more sensitive to bright-on-dark strokes on textured tissue)   by the noise rule
clahe      contrast-limited adaptive histogram equalisation (8x8 tiles,  always
           clip 3) on the full range: faint text, 1-3x the noise, on any
           local background
local      the text's LOCAL contrast: the frame minus a Gaussian-blurred  more than 8 bits
           background (sigma 10 px), in units of the frame's own noise    stored (two, made
           (MAD of that difference), shown signed (-3..+9 noise, bright   with ``clahe``)
           text) and as magnitude (0..8 noise, either polarity): faint
           text 4-6x the noise that min-max, windows and CLAHE leave
           below the detector's threshold (43 faint lines of a development
           set, make_eval_pixels seed 303, detected in 768-px crops: 28
           found by the other renderings, 41 with these two added)
channel    each colour channel alone (R, G, B): coloured overlay text     colour frames whose
           that luminance flattens (blue on black, yellow on white)       channels differ
========== ============================================================= =====================

**The noise rule** (``noise_rule=True``, the default): on a > 8-bit grey frame whose ``local`` pair is
made and measures it (noise sigma > 0, under a quarter of the frame beyond 8 sigma), a window or the
inverted display is made only when it is under 8 sigma wide (:func:`_window_adds`). Every linear
display of the values shows a line with the same signal-to-noise ratio, differing only in gain and
saturation; the magnitude display shows |line - local background| at 32 levels per sigma in either
polarity (bright on dark), the signed one at 21, so a linear display 8 sigma wide or more (the
inverted full range of any noisy frame; the wide windows over the anatomy) shows no line at more
gain. Narrower windows (typically the one over the air or background, 1-2 sigma wide) are kept:
their gain turns faint text and its noise into a region the detector marks. On the 64 small
> 8-bit frames of the development seeds (make_eval_pixels 303, 404, 601-606, 611-613, 707, 901-904),
each rendering detected once: of 760 lines (478 PHI) at least 90 % covered by the whole set, 758 are
with the rule; the other two are covered 0.86 (a clinical line, 1.00 with a wide window) and 0.88
(a PHI line, 0.91 with the inverted display; made illegible by the stage either way). Two faint PHI
lines were found only by a narrow window. Renderings per small > 8-bit frame: 7-8 -> 5-6.

8-bit grey frames (ultrasound, secondary capture) get ``full`` + ``clahe`` only: their stored values
are the display, so windows add nothing a local equalisation does not. Frames over 2.5 Mpx (CR, DX,
mammography) get no windows and no ``inverted`` (the ``local`` magnitude shows text of either
polarity): each rendering of such a frame costs 5-20 s of detection on one core, as it is detected
in 768-px tiles (the detector misses 8-px text on larger inputs). The stored VOI window
(``voi``) and the max-value mask (``extreme``) stay available by configuration.

A faster set, :data:`FAST_SET` (``full``, ``clahe`` + ``local``, ``channel``: 4 detections per small
16-bit frame instead of 7-8), was measured on 2026-12-01 and NOT made the default: on 190 lines of 16
small 16-bit frames of a development draw of the independent generator (``make_eval_pixels`` seeds
303 and 404) it covered every line as well as the full set (187/190 lines >= 90 % covered by the union
of boxes with either set; no line found by one rendering only), and ``bench_ocr.py --frames 16
--deep 8`` gave 16-bit 0.80x of the old stage (full set: 0.34x, below the 0.5x floor); but on the
evaluation set (seed 101) one faint 10-15 px name line on a 16-bit MR was detected only in part with
it (63 % covered, the rest legible) and fully with the full set. PHI recall comes first.

Cost: detection time is proportional to the number of renderings times the frame's pixel count
(about 0.4 s per 736x736 detector input on one CPU core; inputs are frames or 768-px tiles): 2 for
8-bit grey, 4-6 for small > 8-bit grey under the noise rule (up to 8 without it), up to 5 for colour (4 for 16-bit
grey with :data:`FAST_SET`). The boxes found on all renderings of a frame are merged per text line (the same line
seen on several renderings is one box; a rendering whose map marks most of a tile as text, a window
that stretched noise into texture, is dropped for that tile); each box is recognised once, on the
rendering where the detector found it most confidently (again on the other renderings only when
that reading is below 0.85 confidence), so recognition cost barely grows with the renderings.
A detector crop seen before in the same worker (two renderings identical on a tile, the same frame in
another file, the gate's second OCR of a frame the stage left unchanged) is not detected again: its
boxes are reused exactly (:class:`deid.pixels.ocr.DetectionMemo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from deid.config.pixels import Render
from deid.pixels.frames import Frames, _to_uint8, render_frame
from deid.pixels.ocr import OcrEngine, TextBox, read_groups

WINDOW_QUANTILES = ((0.5, 45.0), (30.0, 75.0), (55.0, 99.5))
LARGE_FRAME_PIXELS = 2_500_000  # CR/DX/MG-sized frames: full, inverted and CLAHE only
DEFAULT_SET = (Render.FULL, Render.WINDOW, Render.INVERTED, Render.CLAHE, Render.CHANNEL)  # = PixelConfig's
FAST_SET = (Render.FULL, Render.CLAHE, Render.CHANNEL)  # measured, not the default (see above)
LOCAL_SPAN = 8.0  # noise sigmas the magnitude display spans (0..8 sigma -> 0..255)
MAX_SATURATED = 0.25  # local displays with more of the frame saturated do not measure it in noise units


def _grey(g: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(g[..., np.newaxis], 3, axis=2))


def _clahe(disp: np.ndarray) -> np.ndarray:
    """CLAHE on a 16-bit min-max scaling of the values (keeps more levels than 8 bits), to 8 bits."""
    import cv2

    lo, hi = float(disp.min()), float(disp.max())
    if hi <= lo:
        return np.zeros(disp.shape, np.uint8)
    u16 = np.clip((disp - lo) * (65535.0 / (hi - lo)), 0, 65535).astype(np.uint16)
    out = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(u16)
    return (np.asarray(out, dtype=np.uint16) >> 8).astype(np.uint8)


def _windows(disp: np.ndarray, min_gain: float = 1.6, noise: float = 0.0) -> list[np.ndarray]:
    """Windows over the histogram that stretch their part of the range at least ``min_gain`` times.

    With ``noise`` (the frame's noise sigma, > 0: the local-contrast displays are made from it) a
    window is made only when it is under :data:`LOCAL_SPAN` sigma wide (:func:`_window_adds`)."""
    sample = disp[::4, ::4] if disp.size > 65536 else disp
    lo, hi = float(disp.min()), float(disp.max())
    out: list[np.ndarray] = []
    for qa, qb in WINDOW_QUANTILES:
        a, b = (float(v) for v in np.percentile(sample, [qa, qb]))
        if b - a <= 0 or (hi - lo) / (b - a) < min_gain or not _window_adds(b - a, noise):
            continue
        out.append(_to_uint8(disp, a, b))
    return out


def _window_adds(width: float, noise: float) -> bool:
    """Whether a linear display ``width`` values wide can show a line the local-contrast pair does not.

    Every linear display of the values (a window, the inverted full range) shows a line with the same
    signal-to-noise ratio; they differ only in gain and where they saturate. The magnitude display
    shows |line - local background| at 255 / :data:`LOCAL_SPAN` levels per noise sigma, either
    polarity as bright on dark, saturating beyond :data:`LOCAL_SPAN` sigma (the signed one: 21 levels
    per sigma), so a display :data:`LOCAL_SPAN` sigma wide or more shows no line at more gain than they
    do, and with the anatomy's slow variations that they remove. A narrower one has more gain: it
    turns faint text over a flat background, with its noise, into a region the detector marks (seen
    on development frames: a 1-2 sigma window over air found faint 6-9 px lines no other display
    did), so it is made. ``noise`` 0 (not measured): every window is made."""
    if noise <= 0:
        return True
    return width < LOCAL_SPAN * noise


@dataclass(frozen=True)
class LocalContrast:
    """The two local-contrast displays of a frame and what they were made from."""

    signed: np.ndarray      # -3..+9 sigma -> 0..255 (bright text)
    magnitude: np.ndarray   # 0..LOCAL_SPAN sigma -> 0..255 (either polarity)
    noise: float            # sigma in the frame's (modality) units; 0 when it cannot be measured
    saturated: float        # fraction of pixels at or beyond LOCAL_SPAN sigma

    @property
    def resolves(self) -> bool:
        """Noise measured and most of the frame below saturation: the displays are in noise units of a
        noisy frame, not the residue of a noise-free one (where they would saturate every texture)."""
        return self.noise > 0 and self.saturated <= MAX_SATURATED


def local_displays(disp: np.ndarray, sigma: float = 10.0) -> LocalContrast:
    """The frame minus a Gaussian-blurred background (``sigma`` px) in units of its own noise (MAD)."""
    import cv2

    d = disp.astype(np.float32)
    hp = d - cv2.GaussianBlur(d, (0, 0), sigma)
    sample = hp[::3, ::3]
    sample = sample[sample != 0] if np.count_nonzero(sample) >= 64 else sample.ravel()  # flat padding aside
    noise = float(np.median(np.abs(sample - np.median(sample)))) * 1.4826
    z = hp / (noise if noise > 0 else 1.0)
    signed = np.clip((z + 3.0) * (255.0 / 12.0), 0, 255).astype(np.uint8)
    absz = np.abs(z)
    magnitude = np.clip(absz * (255.0 / LOCAL_SPAN), 0, 255).astype(np.uint8)
    saturated = float(np.count_nonzero(absz[::3, ::3] >= LOCAL_SPAN)) / max(1, absz[::3, ::3].size)
    return LocalContrast(signed, magnitude, noise if noise > 0 else 0.0, saturated)


def local_contrast(disp: np.ndarray, sigma: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """(signed, magnitude) 8-bit displays of the frame minus its blurred background, in noise units."""
    lc = local_displays(disp, sigma)
    return lc.signed, lc.magnitude


def grey_values(frames: Frames, index: int, ds: Dataset) -> np.ndarray:
    """Modality-LUT values of a grey frame as float, higher = brighter (MONOCHROME1 negated)."""
    from pydicom.pixels.processing import apply_modality_lut

    frame = frames.frame(index)
    try:
        disp = np.asarray(apply_modality_lut(frame, ds), dtype=np.float64)
    except Exception:  # noqa: BLE001 - a broken LUT falls back to stored values
        disp = frame.astype(np.float64)
    return -disp if frames.photometric == "MONOCHROME1" else disp


def renderings(frames: Frames, index: int, ds: Dataset, modes: tuple[Render, ...] = DEFAULT_SET,
               noise_rule: bool = True) -> list[np.ndarray]:
    """8-bit RGB renderings (rows, columns, 3) of one frame; see the module docstring for the set.
    ``noise_rule=False``: every window and the inverted display whatever the frame's noise (the set
    before the rule; ``benchmarks/bench_ocr.py`` measures both)."""
    out: list[np.ndarray] = []
    grey_pi = frames.photometric in ("MONOCHROME1", "MONOCHROME2")
    deep = frames.bits_stored > 8
    if frames.rows * frames.columns > LARGE_FRAME_PIXELS:  # detection cost: no windows, no inverted
        modes = tuple(m for m in modes if m is not Render.WINDOW and not (m is Render.INVERTED and deep
                                                                           and Render.CLAHE in modes))
    if grey_pi:
        disp = grey_values(frames, index, ds)
        full = _to_uint8(disp)
        # local contrast in noise units, made with ``clahe`` for > 8 bits (module docstring: ``local``);
        # when it measures the frame, it decides which linear displays can add a line (_window_adds)
        local = local_displays(disp) if deep and Render.CLAHE in modes else None
        noise = local.noise if local is not None and local.resolves and noise_rule else 0.0
        for mode in modes:
            if mode is Render.FULL:
                out.append(_grey(full))
            elif mode is Render.WINDOW and deep:
                out.extend(_grey(w) for w in _windows(disp, noise=noise))
            elif mode is Render.INVERTED and deep and _window_adds(float(disp.max() - disp.min()), noise):
                out.append(_grey(255 - full))
            elif mode is Render.CLAHE:
                out.append(_grey(_clahe(disp)))
                if local is not None:
                    out.extend((_grey(local.signed), _grey(local.magnitude)))
            elif mode in (Render.VOI, Render.EXTREME):
                out.append(render_frame(frames, index, ds, mode))
        return out or [_grey(full)]
    rgb = render_frame(frames, index, ds, Render.VOI)  # colour: the decoded RGB (palette/YBR converted)
    lum = rgb.max(axis=2).astype(np.float64)
    for mode in modes:
        if mode is Render.FULL:
            out.append(rgb)
        elif mode is Render.CLAHE:
            out.append(_grey(_clahe(lum)))
        elif mode is Render.CHANNEL and _colourful(rgb):
            out.extend(_grey(_to_uint8(rgb[..., c].astype(np.float64))) for c in range(3))
        elif mode is Render.INVERTED and deep:
            out.append(255 - rgb)
        elif mode is Render.EXTREME:
            out.append(render_frame(frames, index, ds, mode))
    return out or [rgb]


def read_frames(engine: OcrEngine, frames: Frames, ds: Dataset, indices: list[int],
                modes: tuple[Render, ...] = DEFAULT_SET) -> list[list[TextBox]]:
    """Text lines of the given frames read on this rendering set: the one OCR path for anything that
    reads burned-in text outside the stage (e.g. the quality gate's second OCR of redacted frames)."""
    return read_groups(engine, [renderings(frames, f, ds, modes) for f in indices])


def _colourful(rgb: np.ndarray, min_pixels: int = 32, min_spread: int = 48) -> bool:
    """True when at least ``min_pixels`` pixels have channels that differ by ``min_spread`` or more."""
    sample = rgb[::2, ::2].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return int(np.count_nonzero(spread >= min_spread)) >= min_pixels

