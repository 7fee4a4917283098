"""Independent evaluation set for the pixel stage: DICOM instances with burned-in lines and ground truth.

    python scripts/make_eval_pixels.py [--out /tmp/deid_eval_pixels] [--n 24] [--seed 101]

Written apart from the training generator (``deid/pixels/synth.py``, ``scripts/make_synthetic.py``):
nothing is imported from them and no name list, layout or vocabulary is shared.

- PHI comes from ``faker`` (person names optionally from the census lists of ``eval_names.py``,
  ``--names``) in the EVALUATION locales (:data:`EVAL_LOCALES`; the classifier trains on
  other locales): names, IDs, birth and study dates/times in many layouts, ages and compact sex/age
  forms, accession numbers, physicians, phones, addresses, institutions. Most values are also put
  in the header (so header matching is tested), some only in the pixels (so the classifier is).
- Clinical/technical lines come from pydicom's SR concept dictionaries, evaluation code systems only
  (:data:`EVAL_CLINICAL_SCHEMES`: DICOM DCM code meanings, LOINC, IBSI; units from UCUM codes);
  meanings that name an identifying attribute ("Patient ID", "Person Name", ...) are left out.
- Fonts: PIL's bitmap default (11 px), PIL's scalable default and the DejaVu family when installed;
  heights 6-40 px. Grey levels (display space): ``max`` (frame maximum), ``mid`` (a mid grey below
  the maximum), ``dark`` (darker than the bright anatomy behind it), ``faint`` (4-6x the noise above
  the local background).
- Frames: CT 16-bit signed with rescale, MR 16-bit small, CR/DX MONOCHROME1 12-bit 2-3k px, MG 14-bit,
  RGB and YBR ultrasound, 8-bit secondary capture, multi-frame XA/US; syntaxes explicit/implicit VR,
  RLE, JPEG-LS lossless, JPEG 2000 lossless, JPEG baseline.

Each ``eval_NNNN.dcm`` has ``eval_NNNN.json``: lines with box (x, y, w, h), first/last frame, text,
``phi`` and the category fields ``grey``, ``size`` (ink height, px), ``font``; instance fields ``modality``,
``syntax``, ``photometric``, ``bits``, ``frames``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from eval_names import SOURCES
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

EVAL_LOCALES = ["de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL", "sv_SE", "en_GB", "pt_PT", "cs_CZ",
                "da_DK", "fi_FI", "en_IE", "ro_RO", "hr_HR", "no_NO"]
EVAL_CLINICAL_SCHEMES = ("DCM", "LN", "IBSI")
IDENTIFYING = re.compile(r"\b(name|patient|person|birth|born|date|time|identifier|id|address|phone|"
                         r"telephone|institution|physician|operator|accession|uid|age|sex|owner|e-?mail|"
                         r"subject|family|given|nickname|author|observer|device serial)\b", re.I)
# Dates are drawn between fixed bounds (faker's "now"-relative ranges made the set change with the clock:
# a study time "21.02.26 08:01:10" read "08:01:14" four seconds later, and the layout moved with it).
STUDY_RANGE = (datetime(2020, 1, 1), datetime(2026, 1, 1))
DOB_RANGE = (datetime(1930, 1, 1), datetime(2024, 12, 31))
DATE_LAYOUTS = ["%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d %b %Y", "%b %d, %Y", "%Y%m%d", "%d-%b-%y",
                "%d.%m.%y", "%Y/%m/%d", "%d-%m-%Y", "%B %d %Y", "%d %B %Y", "%m-%d-%Y"]
SOP = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4", "CR": "1.2.840.10008.5.1.4.1.1.1",
       "DX": "1.2.840.10008.5.1.4.1.1.1.1", "MG": "1.2.840.10008.5.1.4.1.1.1.2", "US": "1.2.840.10008.5.1.4.1.1.6.1",
       "USMF": "1.2.840.10008.5.1.4.1.1.3.1", "SC": "1.2.840.10008.5.1.4.1.1.7", "XA": "1.2.840.10008.5.1.4.1.1.12.1"}


@dataclass(frozen=True)
class Frame:
    modality: str
    rows: int
    cols: int
    bits: int            # bits stored; 8 means 8-bit data
    photometric: str     # MONOCHROME1/2, RGB, YBR_FULL
    syntax: str          # explicit, implicit, rle, jpegls, j2k, jpeg
    frames: int = 1
    signed: bool = False


SPECS = [
    Frame("CT", 512, 512, 12, "MONOCHROME2", "explicit", signed=True),
    Frame("US", 600, 800, 8, "RGB", "rle"),
    Frame("CR", 2500, 2048, 12, "MONOCHROME1", "jpegls"),
    Frame("MR", 256, 256, 16, "MONOCHROME2", "implicit"),
    Frame("SC", 768, 1024, 8, "MONOCHROME2", "jpeg"),
    Frame("US", 480, 640, 8, "YBR_FULL", "explicit", frames=4),
    Frame("DX", 3000, 2400, 12, "MONOCHROME1", "explicit"),
    Frame("CT", 512, 512, 16, "MONOCHROME2", "j2k"),
    Frame("XA", 512, 512, 8, "MONOCHROME2", "rle", frames=4),
    Frame("MG", 2600, 2000, 14, "MONOCHROME2", "explicit"),
    Frame("US", 600, 800, 8, "RGB", "jpeg"),
    Frame("MR", 384, 320, 12, "MONOCHROME2", "explicit"),
]
SYNTAX = {"explicit": ExplicitVRLittleEndian, "implicit": ImplicitVRLittleEndian, "rle": RLELossless,
          "jpegls": JPEGLSLossless, "j2k": JPEG2000Lossless, "jpeg": JPEGBaseline8Bit}


@dataclass
class Line:
    first_frame: int
    last_frame: int
    x: int
    y: int
    w: int
    h: int
    text: str
    phi: bool
    kind: str
    grey: str
    size: int
    font: str


# --------------------------------------------------------------------------- text sources
def clinical_vocabulary(schemes: tuple[str, ...] = EVAL_CLINICAL_SCHEMES) -> list[str]:
    """Code meanings of the given schemes in pydicom's SR concept dictionaries (identifying labels out)."""
    from pydicom.sr._concepts_dict import concepts

    out: set[str] = set()
    for scheme in schemes:
        for codes in concepts.get(scheme, {}).values():
            for meaning, _cids in codes.values():
                m = " ".join(str(meaning).split())
                if 3 <= len(m) <= 34 and not IDENTIFYING.search(m) and not re.search(r"\d{3,}", m):
                    out.add(m)
    return sorted(out)


def ucum_units() -> list[str]:
    from pydicom.sr._concepts_dict import concepts

    return sorted({code for codes in concepts.get("UCUM", {}).values() for code in codes if len(code) <= 8})


def _stable_city_order() -> None:
    """Faker's it_IT city list is built from a set, so its order (and every draw from it) followed
    PYTHONHASHSEED: the same seed gave other sets in other processes (the CI subset's "order-dependent"
    PHI miss). Sorted once, the draws depend on the seed alone."""
    from faker.providers.address.it_IT import Provider as ItalianAddress

    if ItalianAddress.cities != sorted(ItalianAddress.cities):
        ItalianAddress.cities = sorted(ItalianAddress.cities)


class Person:
    """One patient's PHI drawn from faker in one evaluation locale."""

    def __init__(self, rng: random.Random, fake_seed: int, names: str = "faker") -> None:
        from eval_names import names_faker
        from faker import Faker

        self.locale = rng.choice(EVAL_LOCALES)
        _stable_city_order()
        fk = Faker(self.locale)
        fk.seed_instance(fake_seed)
        fk = names_faker(fk, names, str(fake_seed))  # person names from scripts/eval_names.py's source
        self.fk = fk
        self.first, self.last = fk.first_name(), fk.last_name()
        self.pid = fk.bothify(rng.choice(["########", "??######", "#######-#", "##-####-##", "?#########"])).upper()
        self.acc = fk.bothify(rng.choice(["A#########", "########", "??-#####-##", "ACC#######"])).upper()
        # fixed bounds, never "now": the same seed gives the same set on any day at any time
        self.dob = fk.date_time_between(start_date=DOB_RANGE[0], end_date=DOB_RANGE[1]).date()
        self.study = fk.date_time_between(start_date=STUDY_RANGE[0], end_date=STUDY_RANGE[1])
        self.institution = f"{fk.city()} {rng.choice(['Hospital', 'Klinikum', 'Clinic', 'Medical Centre', 'Hopital', 'Ospedale'])}"
        self.doctor = fk.name()
        self.operator = fk.first_name()[:1] + fk.last_name()[:1] + fk.last_name()[:1]
        self.sex = rng.choice("MF")

    def age(self) -> int:
        return max(0, self.study.year - self.dob.year)


def phi_lines(p: Person, rng: random.Random) -> list[tuple[str, str]]:
    """(text, kind) PHI overlay lines in varied layouts."""
    d = lambda dt: dt.strftime(rng.choice(DATE_LAYOUTS))  # noqa: E731
    name = rng.choice([f"{p.last}^{p.first}", f"{p.last}, {p.first}", f"{p.first} {p.last}",
                       f"{p.last.upper()} {p.first.upper()}", f"{p.last.upper()}, {p.first[0]}.",
                       f"Name: {p.last} {p.first}", f"Pat: {p.first} {p.last}"])
    out = [(name, "name"),
           (rng.choice([p.pid, f"ID: {p.pid}", f"MRN {p.pid}", f"PID={p.pid}", f"#{p.pid}"]), "id"),
           (rng.choice([d(p.dob), f"DOB {d(p.dob)}", f"*{d(p.dob)}", f"Born {d(p.dob)}"]), "dob"),
           (rng.choice([f"{d(p.study)} {p.study:%H:%M:%S}", d(p.study), f"{p.study:%H:%M} {d(p.study)}"]),
            "study_date"),
           (rng.choice([f"{p.age()}Y {p.sex}", f"{p.sex}/{p.age()}", f"{p.age():03d}Y", f"{p.sex} {p.age()}y",
                        f"Age {p.age()}"]), "age_sex"),
           (p.institution, "institution")]
    extra = [(rng.choice([p.acc, f"Acc {p.acc}", f"A#{p.acc}"]), "accession"),
             (rng.choice([f"Dr. {p.doctor}", f"Ref: {p.doctor}", p.doctor]), "physician"),
             (p.fk.phone_number(), "phone"), (p.fk.street_address(), "address"),
             (f"Op {p.operator}", "operator")]
    rng.shuffle(extra)
    return out + extra[: rng.randint(1, 3)]


def clinical_lines(rng: random.Random, vocab: list[str], units: list[str], n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.6:
            out.append((rng.choice(vocab), "concept"))
        elif k < 0.85:
            value = rng.choice([f"{rng.uniform(0.1, 300):.1f}", str(rng.randint(1, 240)), f"{rng.uniform(0, 9):.2f}"])
            out.append((f"{rng.choice(vocab)[:22]} {value} {rng.choice(units)}", "measurement"))
        else:
            out.append((f"{rng.choice(vocab)[:20]} {rng.randint(1, 40)}/{rng.randint(40, 300)}", "counter"))
    return out


def text_pool(n_people: int, seed: int, names: str = "faker") -> list[tuple[str, bool]]:
    """(text, phi) lines from the evaluation sources without drawing (classifier-level evaluation)."""
    rng = random.Random(seed)
    vocab, units = clinical_vocabulary(), ucum_units()
    out: list[tuple[str, bool]] = []
    for i in range(n_people):
        out += [(t, True) for t, _ in phi_lines(Person(rng, seed * 31 + i, names), rng)]
        out += [(t, False) for t, _ in clinical_lines(rng, vocab, units, 6)]
    return out


# --------------------------------------------------------------------------- drawing
def fonts() -> list[tuple[str, str | None]]:
    found = [("pil_bitmap", None), ("pil_default", "DEFAULT")]
    for name in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf",
                 "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf"):
        for root in (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts")):
            hit = next(iter(root.rglob(name)), None) if root.is_dir() else None
            if hit:
                found.append((name.removesuffix(".ttf"), str(hit)))
                break
    return found


def load(font: str | None, size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if font is None:
        return ImageFont.load_default_imagefont()
    if font == "DEFAULT":
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(font, size)


def latin1(text: str) -> str:
    """The text without the accents latin-1 lacks (NFKD, combining marks dropped), "?" for the rest."""
    if all(ord(c) < 256 for c in text):
        return text
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(c if ord(c) < 256 else "?" for c in plain)


def text_mask(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> np.ndarray:
    probe = ImageDraw.Draw(Image.new("L", (4, 4)))
    l0, t0, r0, b0 = probe.textbbox((0, 0), text, font=font)
    img = Image.new("L", (max(1, r0 - l0), max(1, b0 - t0)), 0)
    ImageDraw.Draw(img).text((-l0, -t0), text, fill=255, font=font)
    return np.asarray(img) > 96


def size_bucket(h: int) -> str:
    return "06-09px" if h < 10 else "10-15px" if h < 16 else "16-25px" if h < 26 else "26-40px"


def anatomy(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Display-space background in [0, 1]: dark surround, a bright body with smooth structure."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy, cx = rows * rng.uniform(0.4, 0.6), cols * rng.uniform(0.4, 0.6)
    ry, rx = rows * rng.uniform(0.25, 0.4), cols * rng.uniform(0.25, 0.4)
    body = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1).astype(np.float32)
    small = rng.random((max(2, rows // 64), max(2, cols // 64))).astype(np.float32)
    tex = np.asarray(Image.fromarray(small).resize((cols, rows), Image.BICUBIC))
    return np.clip(0.05 + body * (0.45 + 0.35 * tex), 0, 1)


def place(rng: random.Random, taken: list[tuple[int, int, int, int]], h: int, w: int, rows: int, cols: int,
          inside: bool) -> tuple[int, int] | None:
    for _ in range(200):
        if inside:
            y, x = rng.randint(rows // 3, max(rows // 3, 2 * rows // 3 - h)), rng.randint(cols // 3, max(cols // 3, 2 * cols // 3 - w))
        else:
            y = rng.choice([rng.randint(4, max(4, rows // 5)), rng.randint(max(4, 4 * rows // 5 - h), max(4, rows - h - 4))])
            x = rng.choice([rng.randint(4, max(4, cols // 4)), rng.randint(max(4, cols - w - cols // 4), max(4, cols - w - 4))])
        if y + h > rows - 2 or x + w > cols - 2:
            continue
        if all(y + h + 8 <= ty or ty + th + 8 <= y or x + w + 8 <= tx or tx + tw + 8 <= x for ty, tx, th, tw in taken):
            taken.append((y, x, h, w))
            return y, x
    return None


def make(idx: int, seed: int, vocab: list[str], units: list[str],
         names: str = "faker") -> tuple[Dataset, list[Line], Frame]:
    rng = random.Random(seed * 7919 + idx)
    nrng = np.random.default_rng(seed * 104729 + idx)
    spec = SPECS[idx % len(SPECS)]
    person = Person(rng, seed * 31 + idx, names)
    disp = anatomy(nrng, spec.rows, spec.cols)
    noise = 0.012 if spec.bits > 8 else 0.02
    base = [np.clip(disp + nrng.normal(0, noise, disp.shape).astype(np.float32), 0, 1) for _ in range(spec.frames)]
    font_list = fonts()
    texts = [(t, True, k) for t, k in phi_lines(person, rng)] + \
            [(t, False, k) for t, k in clinical_lines(rng, vocab, units, rng.randint(4, 7))]
    rng.shuffle(texts)
    taken: list[tuple[int, int, int, int]] = []
    lines: list[Line] = []
    small_frame = max(spec.rows, spec.cols) <= 400
    for text, phi, kind in texts:
        fname, fpath = rng.choice(font_list)
        if fpath is None:  # PIL's bitmap font is latin-1 only ("Kovač" would raise): drawn and scored as "Kovac"
            text = latin1(text)
        size = rng.randint(6, 14) if small_frame else rng.choice([rng.randint(6, 12), rng.randint(10, 24), rng.randint(18, 40)])
        mask = text_mask(text, load(fpath, size))
        while mask.shape[0] < 6 and fpath is not None and size < 40:  # ink at least 6 px tall
            size += 1
            mask = text_mask(text, load(fpath, size))
        h, w = mask.shape
        grey = rng.choice(["max", "max", "mid", "dark", "faint"] if spec.bits > 8 else ["max", "max", "mid", "dark"])
        pos = place(rng, taken, h, w, spec.rows, spec.cols, inside=grey == "dark")
        if pos is None:
            continue
        y, x = pos
        if spec.frames > 1 and rng.random() < 0.4:
            f0 = rng.randrange(spec.frames)
            f1 = rng.randrange(f0, spec.frames)
        else:
            f0, f1 = 0, spec.frames - 1
        for f in range(f0, f1 + 1):
            region = base[f][y:y + h, x:x + w]
            bg = float(np.median(region))
            if grey == "max":
                level = 1.0
            elif grey == "mid":
                level = min(0.95, bg + rng.uniform(0.25, 0.4)) if bg < 0.5 else max(0.02, bg - rng.uniform(0.25, 0.4))
            elif grey == "dark":
                region[...] = np.maximum(region, 0.75 + 0.1 * nrng.random(region.shape).astype(np.float32))
                level = rng.uniform(0.1, 0.35)
            else:
                level = bg + rng.uniform(4, 6) * noise
            region[mask] = level
        lines.append(Line(f0, f1, x, y, w, h, text, phi, kind, grey, h, fname))
    ds = dataset(spec, base, person, rng)
    return ds, lines, spec


def stored(spec: Frame, frames: list[np.ndarray]) -> np.ndarray:
    """Display [0, 1] to stored values of the spec (MONOCHROME1 inverted, colour tinted)."""
    arr = np.stack(frames)
    if spec.photometric == "MONOCHROME1":
        arr = 1.0 - arr
    if spec.bits == 8:
        g = np.round(arr * 255).astype(np.uint8)
        if spec.photometric in ("RGB", "YBR_FULL"):
            tint = np.stack([g, g, np.clip(g.astype(np.int16) + 20, 0, 255).astype(np.uint8)], axis=-1)
            return tint
        return g
    top = (1 << spec.bits) - 1
    vals = np.round(arr * top).astype(np.int32)
    if spec.signed:
        return (vals - (1 << (spec.bits - 1))).astype(np.int16)
    return vals.astype(np.uint16)


def dataset(spec: Frame, frames: list[np.ndarray], p: Person, rng: random.Random) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop = SOP["USMF" if spec.modality == "US" and spec.frames > 1 else spec.modality]
    ds.SOPClassUID, ds.SOPInstanceUID = sop, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = spec.modality
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: faker names in every evaluation locale
    ds.PatientName = f"{p.last}^{p.first}"
    ds.PatientID = p.pid
    ds.PatientBirthDate = p.dob.strftime("%Y%m%d")
    ds.PatientSex = p.sex
    ds.PatientAge = f"{p.age():03d}Y"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = p.study.strftime("%Y%m%d")
    ds.StudyTime = p.study.strftime("%H%M%S")
    ds.AccessionNumber = p.acc
    ds.InstitutionName = p.institution
    ds.ReferringPhysicianName = p.doctor.replace(" ", "^", 1)
    ds.OperatorsName = p.operator
    arr = stored(spec, frames)
    ds.Rows, ds.Columns = spec.rows, spec.cols
    ds.BitsStored = spec.bits
    ds.BitsAllocated = 8 if spec.bits == 8 else 16
    ds.HighBit = spec.bits - 1
    ds.PixelRepresentation = int(spec.signed)
    if spec.frames > 1:
        ds.NumberOfFrames = spec.frames
    if spec.photometric in ("RGB", "YBR_FULL"):
        ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    else:
        ds.SamplesPerPixel = 1
        if spec.bits > 8:
            ds.RescaleIntercept, ds.RescaleSlope = (-1024, 1) if spec.modality == "CT" else (0, rng.choice([1, 2]))
            ds.WindowCenter, ds.WindowWidth = 40, 400  # a stored window that hides most of the text
    ds.PhotometricInterpretation = "RGB" if spec.photometric == "YBR_FULL" and spec.syntax == "jpeg" else spec.photometric
    if spec.photometric == "YBR_FULL":
        from pydicom.pixels.processing import convert_color_space

        arr = np.stack([convert_color_space(f, "RGB", "YBR_FULL") for f in arr])
    single = arr[0] if spec.frames == 1 else arr
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PixelData = single.tobytes()
    ts = SYNTAX[spec.syntax]
    if spec.syntax == "jpeg":
        jpeg_frames(ds, arr)
    elif spec.syntax == "implicit":
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    elif ts != ExplicitVRLittleEndian:
        ds.compress(ts, single, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def jpeg_frames(ds: Dataset, arr: np.ndarray) -> None:
    out = []
    for frame in arr:
        buf = io.BytesIO()
        Image.fromarray(frame, "RGB" if frame.ndim == 3 else "L").save(buf, "JPEG", quality=92, subsampling=1)
        out.append(buf.getvalue())
    ds.PixelData = encapsulate(out)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PhotometricInterpretation = "YBR_FULL_422" if arr.ndim == 4 else "MONOCHROME2"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"


def generate(out: Path, n: int, seed: int, indices: list[int] | None = None, names: str = "faker") -> list[Path]:
    """Instances 0..n-1 (or only ``indices``: frame spec ``SPECS[i % 12]``) of the set ``seed``, person
    names from ``names`` (``eval_names.SOURCES``; default Faker, as before)."""
    out.mkdir(parents=True, exist_ok=True)
    vocab, units = clinical_vocabulary(), ucum_units()
    paths = []
    for i in (range(n) if indices is None else indices):
        ds, lines, spec = make(i, seed, vocab, units, names)
        path = out / f"eval_{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        meta = {"modality": spec.modality, "syntax": spec.syntax, "photometric": spec.photometric,
                "bits": spec.bits, "frames": spec.frames, "rows": spec.rows, "cols": spec.cols,
                "lines": [asdict(x) for x in lines]}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
        paths.append(path)
    return paths


def eval_set(out: Path, n: int, seed: int, names: str = "faker") -> list[Path]:
    """The first ``n`` instances of set ``seed`` (names from ``names``) in ``out``: reused only when ``out``
    holds that seed's set with those names (``set.json``), otherwise ``out``'s instances are replaced, so
    that a figure is never measured on another seed's images left in the folder."""
    marker = out / "set.json"
    paths = sorted(out.glob("eval_*.dcm")) if out.is_dir() else []
    old = json.loads(marker.read_text()) if marker.is_file() else {}
    same = old.get("seed") == seed and old.get("names", "faker") == names
    if same and len(paths) >= n:
        return paths[:n]
    for old in (*out.glob("eval_*.dcm"), *out.glob("eval_*.json")) if out.is_dir() else ():
        old.unlink()
    marker.unlink(missing_ok=True)
    paths = generate(out, n, seed, names=names)
    marker.write_text(json.dumps({"seed": seed, "n": n} | ({"names": names} if names != "faker" else {})))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/deid_eval_pixels"))
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--names", choices=SOURCES, default="faker", help="person names (scripts/eval_names.py)")
    args = ap.parse_args()
    paths = generate(args.out, args.n, args.seed, names=args.names)
    print(f"{len(paths)} instances in {args.out}")


if __name__ == "__main__":
    main()
