"""Synthetic DICOM instances with burned-in text and a ground-truth JSON per file.

    python scripts/make_synthetic.py OUT_DIR [--n 32] [--seed 7]

Covers modalities (US, CT, MR, CR, OT), transfer syntaxes (Explicit VR LE, RLE, JPEG-LS lossless,
JPEG 2000 lossless, JPEG baseline lossy), photometrics (MONOCHROME1/2, RGB, YBR_FULL_422, PALETTE
COLOR), fonts (PIL's default and every TrueType font found), text sizes 9-28 px, grey levels,
positions, and multi-frame cines whose text changes per frame. Header PHI (name, ID, dates,
accession, institution) is also burned in. Every value is invented.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from deid.pixels.synth import Segment, clinical_segment, phi_segment, rand_date, rand_id, rand_name

FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts"]
SOP_CLASSES = {"US": "1.2.840.10008.5.1.4.1.1.6.1", "USMF": "1.2.840.10008.5.1.4.1.1.3.1",
               "CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
               "CR": "1.2.840.10008.5.1.4.1.1.1", "OT": "1.2.840.10008.5.1.4.1.1.7"}


@dataclass
class TruthBox:
    first_frame: int
    last_frame: int
    x: int
    y: int
    w: int
    h: int
    text: str
    phi: bool
    header: bool
    kind: str


def font_files() -> list[str]:
    out: list[str] = []
    for d in FONT_DIRS:
        p = Path(d)
        if p.is_dir():
            out += sorted(str(f) for f in p.rglob("*.ttf"))
    return out


def load_font(choice: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if choice is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(choice, size)


@dataclass
class Spec:
    modality: str
    syntax: str
    photometric: str
    frames: int
    rows: int
    cols: int
    bits: int


SPECS = [
    Spec("US", "explicit", "MONOCHROME2", 1, 480, 640, 8),
    Spec("US", "rle", "RGB", 1, 480, 640, 8),
    Spec("US", "jpeg", "YBR_FULL_422", 1, 480, 640, 8),
    Spec("US", "rle", "PALETTE COLOR", 1, 480, 640, 8),
    Spec("US", "jpegls", "MONOCHROME2", 8, 360, 480, 8),
    Spec("US", "j2k", "RGB", 6, 360, 480, 8),
    Spec("US", "explicit", "RGB", 8, 360, 480, 8),
    Spec("CT", "explicit", "MONOCHROME2", 1, 512, 512, 16),
    Spec("CT", "jpegls", "MONOCHROME2", 1, 512, 512, 16),
    Spec("MR", "j2k", "MONOCHROME2", 1, 384, 384, 16),
    Spec("CR", "rle", "MONOCHROME1", 1, 600, 500, 16),
    Spec("OT", "jpeg", "MONOCHROME2", 1, 400, 560, 8),
    Spec("OT", "explicit", "RGB", 1, 400, 560, 8),
]
SYNTAX_UIDS = {"explicit": ExplicitVRLittleEndian, "rle": RLELossless, "jpegls": JPEGLSLossless,
               "j2k": JPEG2000Lossless, "jpeg": JPEGBaseline8Bit}


def background(rng: np.random.Generator, spec: Spec) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """Anatomy-like grey image (float 0..1) and, for US, the data region (x, y, w, h)."""
    yy, xx = np.mgrid[0:spec.rows, 0:spec.cols]
    cy, cx = spec.rows * rng.uniform(0.45, 0.6), spec.cols * rng.uniform(0.4, 0.6)
    r = np.hypot((yy - cy) / (spec.rows * 0.35), (xx - cx) / (spec.cols * 0.3))
    img = np.clip(0.55 - 0.35 * r, 0, 1) + rng.normal(0, 0.05, (spec.rows, spec.cols))
    region = None
    if spec.modality == "US":
        x0, y0 = int(spec.cols * 0.22), int(spec.rows * 0.14)
        w, h = int(spec.cols * 0.56), int(spec.rows * 0.72)
        speckle = rng.rayleigh(0.25, (h, w)) * np.clip(1.0 - np.hypot(
            *np.mgrid[0:h, 0:w] - np.array([[[0]], [[w / 2]]])) / (1.05 * max(h, w / 1.6)), 0, 1)
        img[:] = 0.02
        img[y0:y0 + h, x0:x0 + w] = np.clip(speckle, 0, 0.8)
        region = (x0, y0, w, h)
    return np.clip(img, 0, 0.85), region


def place_box(rng: random.Random, tw: int, th: int, spec: Spec, region: tuple[int, int, int, int] | None,
              placed: list[tuple[int, int, int, int]]) -> tuple[int, int] | None:
    """A free (x, y) for a tw x th text box: in the margins, clear of the US region and other text."""
    def clear(x: int, y: int) -> bool:
        boxes = placed + ([region] if region else [])
        return all(x + tw + 3 <= bx or bx + bw + 3 <= x or y + th + 3 <= by or by + bh + 3 <= y
                   for bx, by, bw, bh in boxes)

    if tw + 4 >= spec.cols or th + 4 >= spec.rows:
        return None
    for _ in range(200):
        zone = rng.choice(["left", "right", "top", "bottom"])
        if zone == "left":
            x, y = rng.randint(2, 10), rng.randint(2, spec.rows - th - 2)
        elif zone == "right":
            x, y = spec.cols - tw - rng.randint(2, 10), rng.randint(2, spec.rows - th - 2)
        elif zone == "top":
            x, y = rng.randint(2, spec.cols - tw - 2), rng.randint(2, max(2, spec.rows // 8))
        else:
            x, y = rng.randint(2, spec.cols - tw - 2), rng.randint(spec.rows - spec.rows // 8, spec.rows - th - 2)
        x, y = max(0, x), max(0, y)
        if clear(x, y):
            return x, y
    return None


def make_instance(idx: int, seed: int, fonts: list[str | None]) -> tuple[Dataset, list[TruthBox]]:
    rng = random.Random(seed * 1000 + idx)
    nrng = np.random.default_rng(seed * 1000 + idx)
    spec = SPECS[idx % len(SPECS)]
    name = rand_name(rng)
    dob_iso, dob_txt = rand_date(rng)
    study_iso, study_txt = rand_date(rng)
    pid, acc = rand_id(rng), rand_id(rng)
    inst = rng.choice(["St Jude Medical Center", "Riverside General Hospital", "Lakeside Imaging Clinic",
                       "Harbor View Radiology", "Oakwood University Hospital"])
    segs: list[Segment] = [
        Segment(rng.choice(["", "Name: "]) + name[2], True, "header_name"),
        Segment(rng.choice(["ID: ", "MRN ", ""]) + pid, True, "header_id"),
        Segment(rng.choice(["DOB: ", "DOB "]) + dob_txt, True, "header_date"),
    ]
    if rng.random() < 0.7:
        segs.append(Segment(study_txt, True, "header_date"))
    if rng.random() < 0.5:
        segs.append(Segment(inst, True, "header_place"))
    if rng.random() < 0.4:
        segs.append(Segment("Acc " + acc, True, "header_id"))
    segs += [phi_segment(rng) for _ in range(rng.randint(0, 2))]
    segs += [clinical_segment(rng) for _ in range(rng.randint(3, 6))]
    rng.shuffle(segs)
    small = spec.rows < 400
    sizes = [rng.randint(9, 18 if small else 28) for _ in segs]
    base, region = background(nrng, spec)
    placed: list[tuple[int, int, int, int]] = []
    font_choice = rng.choice(fonts)
    frames = [base.copy() for _ in range(spec.frames)]
    if spec.frames > 1 and region is not None:
        x0, y0, w, h = region
        for f in range(1, spec.frames):  # moving speckle inside the data region
            frames[f][y0:y0 + h, x0:x0 + w] = np.roll(base[y0:y0 + h, x0:x0 + w], 3 * f, axis=1)
    truth: list[TruthBox] = []
    levels = [1.0, 0.95, 0.8, 0.7] if spec.bits == 8 else [1.0, 1.0, 0.9]
    for seg, size in zip(segs, sizes, strict=True):
        spot = None
        while spot is None and size >= 9:
            font = load_font(font_choice, size)
            probe = ImageDraw.Draw(Image.new("L", (1, 1)))
            l0, t0, r0, b0 = probe.textbbox((0, 0), seg.text, font=font)
            tw, th = int(r0 - l0), int(b0 - t0)
            spot = place_box(rng, tw, th, spec, region, placed)
            size -= 2
        if spot is None:
            continue
        x, y = spot
        placed.append((x, y, tw, th))
        first, last = 0, spec.frames - 1
        if spec.frames > 1 and rng.random() < 0.35:  # text shown in only some frames
            first = rng.randint(1, spec.frames - 1)
            last = rng.randint(first, spec.frames - 1)
        mask = Image.new("L", (spec.cols, spec.rows), 0)
        ImageDraw.Draw(mask).text((x - l0, y - t0), seg.text, fill=255, font=font)
        m = np.asarray(mask, dtype=np.float64) / 255.0
        level = rng.choice(levels)
        for f in range(first, last + 1):
            frames[f] = frames[f] * (1 - m) + level * m
        ys, xs = np.nonzero(m > 0.2)
        if len(xs) == 0:
            continue
        truth.append(TruthBox(first, last, int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                              int(ys.max() - ys.min() + 1), seg.text, seg.phi, seg.kind.startswith("header"),
                              seg.kind))
    ds = build_dataset(spec, np.stack(frames), name, pid, acc, dob_iso, study_iso, inst, idx)
    return ds, truth


def build_dataset(spec: Spec, img: np.ndarray, name: tuple[str, str, str], pid: str, acc: str, dob: str,
                  study: str, inst: str, idx: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop_class = SOP_CLASSES["USMF" if spec.modality == "US" and spec.frames > 1 else spec.modality]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = spec.modality
    ds.PatientName = f"{name[0]}^{name[1]}"
    ds.PatientID = pid
    ds.PatientBirthDate = dob
    ds.StudyDate = ds.SeriesDate = study
    ds.AccessionNumber = acc[:16]
    ds.InstitutionName = inst
    ds.BurnedInAnnotation = "YES"
    ds.SeriesNumber, ds.InstanceNumber = 1, idx + 1
    ds.Rows, ds.Columns = spec.rows, spec.cols
    if spec.frames > 1:
        ds.NumberOfFrames = spec.frames
    if spec.modality == "US":
        region = Dataset()
        region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = 1, 1, 0
        x0, y0, w, h = int(spec.cols * 0.22), int(spec.rows * 0.14), int(spec.cols * 0.56), int(spec.rows * 0.72)
        region.RegionLocationMinX0, region.RegionLocationMinY0 = x0, y0
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = x0 + w - 1, y0 + h - 1
        ds.SequenceOfUltrasoundRegions = [region]
    pi = spec.photometric
    if spec.bits == 16:
        bs = 12
        arr = np.round(img * (2 ** bs - 1)).astype(np.uint16)
        if pi == "MONOCHROME1":  # text displayed white = smallest stored value
            arr = (2 ** bs - 1 - arr).astype(np.uint16)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bs, bs - 1, 0
        ds.SamplesPerPixel = 1
        if spec.modality == "CT":
            ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
            ds.WindowCenter, ds.WindowWidth = 1000, 4000
        pixels = arr
    else:
        grey = np.round(img * 255).astype(np.uint8)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        if pi in ("RGB", "YBR_FULL_422"):
            tint = np.array([1.0, 0.97, 0.9])
            pixels = np.clip(grey[..., np.newaxis] * tint, 0, 255).astype(np.uint8)
            ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
        elif pi == "PALETTE COLOR":
            pixels = grey
            ds.SamplesPerPixel = 1
            lut = np.arange(256, dtype=np.uint16) * 257
            ds.RedPaletteColorLookupTableDescriptor = [256, 0, 16]
            ds.GreenPaletteColorLookupTableDescriptor = [256, 0, 16]
            ds.BluePaletteColorLookupTableDescriptor = [256, 0, 16]
            ds.RedPaletteColorLookupTableData = lut.tobytes()
            ds.GreenPaletteColorLookupTableData = lut.tobytes()
            ds.BluePaletteColorLookupTableData = (lut // 4 * 3).astype(np.uint16).tobytes()
        else:
            pixels = grey
            ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "RGB" if pi == "YBR_FULL_422" else pi
    single = pixels[0] if spec.frames == 1 else pixels
    ts = SYNTAX_UIDS[spec.syntax]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PixelData = single.tobytes()
    if spec.syntax == "jpeg":
        _jpeg_baseline(ds, pixels, pi)
    elif ts != ExplicitVRLittleEndian:
        ds.compress(ts, single, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _jpeg_baseline(ds: Dataset, pixels: np.ndarray, pi: str) -> None:
    """JPEG baseline (lossy) frames via Pillow; colour as YBR_FULL_422 (PS3.5 8.2.1)."""
    out = []
    for frame in pixels:
        buf = io.BytesIO()
        mode = "RGB" if frame.ndim == 3 else "L"
        Image.fromarray(frame, mode).save(buf, "JPEG", quality=90, subsampling=1)
        out.append(buf.getvalue())
    ds.PixelData = encapsulate(out)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PhotometricInterpretation = "YBR_FULL_422" if pi == "YBR_FULL_422" else "MONOCHROME2"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"


def generate(out: Path, n: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    fonts: list[str | None] = [None, *font_files()[:6]]
    paths = []
    for i in range(n):
        ds, truth = make_instance(i, seed, fonts)
        p = out / f"synth_{i:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        meta = {"file": p.name, "modality": ds.Modality, "syntax": str(ds.file_meta.TransferSyntaxUID),
                "photometric": str(ds.PhotometricInterpretation), "frames": int(ds.get("NumberOfFrames", 1)),
                "boxes": [asdict(b) for b in truth]}
        p.with_suffix(".json").write_text(json.dumps(meta, indent=1))
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.n, args.seed)
    boxes = sum(len(json.loads(p.with_suffix(".json").read_text())["boxes"]) for p in paths)
    print(f"wrote {len(paths)} instances with {boxes} text boxes to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
