"""A scale export, made not stored: N instances from seeded synthetic content and packaged real headers.

    python scripts/make_export.py N OUT_DIR [--seed 11] [--burned 0.3] [--large 0] [--large-mb 110]

* **Real headers** (about 70%): every readable file of pydicom's test files and ``deid-data`` is a
  template (mixed modalities - CT, MR, US, RT, SC, ... - and transfer syntaxes: implicit/explicit VR,
  big endian, JPEG, JPEG-LS, JPEG 2000, RLE, deflate);
* **burned-in text** (``--burned``, default 0.3): templates made by ``scripts/make_synthetic.py``
  (US, CT, MR, CR, OT; multi-frame ultrasound cines among them) with invented PHI drawn into the pixels;
* **studies of 1-500 instances** (a heavy-tailed, seeded size distribution): one invented patient and
  Study Instance UID per study, one series per template used in it, a new SOP Instance UID per
  instance, so every instance is distinct (its own sha256, no duplicate UID);
* ``--large K``: K uncompressed RGB ultrasound cines of about ``--large-mb`` MB (> 100 MB) each, with
  burned-in text; off by default (slow, large).

Files are written as ``OUT/sNNNNN/NNNNNNN.dcm`` with ``OUT/manifest.json`` (counts by modality,
transfer syntax, burned-in, frames; no values). The same N and seed give the same headers and pixels
(UIDs are derived from the seed). Nothing here is committed: the export is made where it is needed.
Separate from ``scripts/make_eval_pixels.py`` (the pixel evaluation set): this is for scale only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

HERE = Path(__file__).resolve().parent
MAX_STUDY = 500


@dataclass
class Template:
    """One parsed source dataset reused (mutated in place) for many instances."""

    ds: Dataset
    modality: str
    syntax: str
    frames: int
    burned: bool


def _synthetic_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_synthetic", HERE / "make_synthetic.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_synthetic"] = mod
    spec.loader.exec_module(mod)
    return mod


def _template(ds: Dataset, burned: bool) -> Template:
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):  # a malformed IS value in a real sample: counted as one frame
        frames = 1
    return Template(ds, str(ds.get("Modality", "") or "?"), str(ds.file_meta.TransferSyntaxUID), frames, burned)


def real_templates() -> list[Template]:
    """Every packaged real file that reads and writes back (hostile/broken samples are left out)."""
    from deid.dicomio import read_dicom, write_dicom
    from deid.errors import InputError
    from deid.samples import deid_data_files, pydicom_files

    out = []
    for src in pydicom_files() + deid_data_files():
        try:
            ds = read_dicom(src.read_bytes())
            write_dicom(ds)
        except (InputError, Exception):  # noqa: BLE001 - a sample that does not round-trip is skipped
            continue
        if "SOPInstanceUID" in ds and "StudyInstanceUID" in ds:
            out.append(_template(ds, False))
    return out


def burned_templates(seed: int, n: int) -> list[Template]:
    """``n`` synthetic instances with burned-in text, covering every spec of make_synthetic."""
    synth = _synthetic_module()
    fonts: list[str | None] = [None, *synth.font_files()[:3]]
    return [_template(synth.make_instance(i, seed, fonts)[0], True) for i in range(n)]


def study_sizes(n: int, rng: random.Random) -> list[int]:
    """Study sizes 1-500 summing to ``n``: most studies small, a few hundreds-of-instances ones."""
    sizes: list[int] = []
    while sum(sizes) < n:
        size = min(MAX_STUDY, max(1, int(rng.lognormvariate(2.3, 1.4))))
        sizes.append(min(size, n - sum(sizes)))
    return sizes


def _uid(seed: int, *parts: object) -> str:
    return str(generate_uid(entropy_srcs=[f"make_export:{seed}", *(str(p) for p in parts)]))


def _stamp(ds: Dataset, study: dict[str, str], series_uid: str, sop_uid: str, number: int) -> None:
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study["uid"], series_uid, sop_uid
    ds.PatientName, ds.PatientID = study["name"], study["id"]
    ds.AccessionNumber = study["acc"]
    ds.InstanceNumber = number
    if getattr(ds, "file_meta", None) is not None:
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid


def write_instances(out: Path, n: int, seed: int, burned_share: float,
                    real: list[Template], burned: list[Template]) -> Counter[str]:
    from deid.dicomio import write_dicom
    from deid.pixels.synth import rand_id, rand_name

    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    index = 0
    for s, size in enumerate(study_sizes(n, rng)):
        name = rand_name(rng)
        study = {"uid": _uid(seed, "study", s), "name": f"{name[0]}^{name[1]}", "id": rand_id(rng),
                 "acc": rand_id(rng)[:16]}
        folder = out / f"s{s:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        series: dict[int, str] = {}
        for k in range(size):
            pool = burned if burned and rng.random() < burned_share else real
            t = pool[rng.randrange(len(pool))]
            series_uid = series.setdefault(id(t), _uid(seed, "series", s, len(series)))
            _stamp(t.ds, study, series_uid, _uid(seed, "sop", index), k + 1)
            (folder / f"{index:07d}.dcm").write_bytes(write_dicom(t.ds))
            counts.update([f"modality:{t.modality}", f"syntax:{t.syntax}", f"burned:{t.burned}",
                           "multiframe" if t.frames > 1 else "single-frame"])
            index += 1
        counts["studies"] += 1
    counts["instances"] = index
    return counts


def write_large(path: Path, megabytes: int, seed: int) -> int:
    """An uncompressed RGB US cine of about ``megabytes`` MB with burned-in text; its frame count."""
    from PIL import Image, ImageDraw
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    rows, cols = 480, 640
    frames = max(2, megabytes * 1_000_000 // (rows * cols * 3))
    rng = np.random.default_rng(seed)
    banner = Image.new("L", (cols, 40), 0)
    ImageDraw.Draw(banner).text((8, 10), f"DOE^JANE  ID {seed:08d}  01/02/1970", fill=255)
    text = np.asarray(banner, dtype=np.uint8)
    base = rng.integers(0, 60, size=(rows, cols), dtype=np.uint8)
    pixels = np.empty((frames, rows, cols, 3), dtype=np.uint8)
    for f in range(frames):
        grey = np.roll(base, f * 3, axis=1)
        grey[:40] = np.maximum(grey[:40], text)
        pixels[f] = grey[..., None]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = _uid(seed, "large-sop", path.name)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = _uid(seed, "large-study", path.name), _uid(seed, "large-series")
    ds.Modality, ds.PatientName, ds.PatientID = "US", "Doe^Jane", f"{seed:08d}"
    ds.PatientBirthDate, ds.StudyDate, ds.BurnedInAnnotation = "19700102", "20240601", "YES"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns, ds.NumberOfFrames, ds.FrameTime = rows, cols, frames, 33.3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return frames


def make_export(out: Path, n: int, *, seed: int = 11, burned_share: float = 0.3, large: int = 0,
                large_mb: int = 110, n_burned_templates: int = 26) -> dict[str, object]:
    """Write the export; returns the manifest (also written to ``out/manifest.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = real_templates()
        burned = burned_templates(seed, n_burned_templates) if burned_share > 0 else []
        counts = write_instances(out, n - large, seed, burned_share, real, burned)
        for i in range(large):
            write_large(out / "large" / f"cine{i:02d}.dcm", large_mb, seed + i)
            counts.update(["modality:US", "burned:True", "multiframe", "large", "instances"])
    manifest = {"n": n, "seed": seed, "burned_share": burned_share, "templates_real": len(real),
                "templates_burned": len(burned), "counts": dict(sorted(counts.items()))}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--burned", type=float, default=0.3, help="share of instances with burned-in text")
    ap.add_argument("--large", type=int, default=0, help="files over 100 MB (uncompressed US cines)")
    ap.add_argument("--large-mb", type=int, default=110)
    args = ap.parse_args(argv)
    manifest = make_export(args.out, args.n, seed=args.seed, burned_share=args.burned, large=args.large,
                           large_mb=args.large_mb)
    c = manifest["counts"]
    assert isinstance(c, dict)
    print(f"wrote {c.get('instances', 0)} instances in {c.get('studies', 0)} studies to {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
