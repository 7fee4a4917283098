"""Peak memory of a local `deid run` over one large multi-frame cine (default ~500 MB, uncompressed).

    python benchmarks/bench_memory.py [--mb 500] [--modality US|XA] [--pixels] [--driver-memory 4g]
                                      [--quick] [--workdir DIR] [--json-out FILE]

1. writes a synthetic uncompressed multi-frame Ultrasound (or XA) instance of about --mb megabytes
   with pydicom (8-bit MONOCHROME2 1024x1024 frames, a burned-in banner band, synthetic patient);
2. runs ``deid run`` on it in a subprocess (embedded local[2] Spark) with the pixel stage disabled
   unless --pixels is given (pixels.enabled: false: the header path and the file copy alone);
3. polls /proc every 0.1 s and records the peak resident set size of the whole process tree
   (CLI driver, JVM, Python workers), in total and per kind.

--quick: a ~24 MB cine (smoke check). Prints a JSON summary (and writes it to --json-out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROWS = COLS = 1024
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
XA = "1.2.840.10008.5.1.4.1.1.12.1"


def _encoded_frames(pixels: np.ndarray, syntax: str) -> list[bytes]:
    """Each frame as a JPEG-LS lossless (pyjpegls via pydicom) or JPEG baseline (Pillow) codestream."""
    import io

    from PIL import Image
    from pydicom.pixels import get_encoder
    from pydicom.uid import JPEGLSLossless

    out: list[bytes] = []
    opts = {"rows": ROWS, "columns": COLS, "samples_per_pixel": 1, "bits_allocated": 8, "bits_stored": 8,
            "pixel_representation": 0, "photometric_interpretation": "MONOCHROME2", "number_of_frames": 1}
    for frame in pixels:
        if syntax == "jpegls":
            out.append(get_encoder(JPEGLSLossless).encode(frame, **opts))
        else:
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="JPEG", quality=90)
            out.append(buf.getvalue())
    return out


def write_cine(path: Path, megabytes: int, modality: str = "US", seed: int = 0, moving: bool = True,
               text: str | None = None, syntax: str = "native") -> int:
    """An 8-bit multi-frame instance of about ``megabytes`` MB; returns its frame count.

    ``moving``: each frame shifted (every frame is OCR'd); else all frames alike (only the first is).
    ``text``: a line burned into every frame below the banner band (the pixel stage redacts it).
    ``syntax``: native (Explicit VR Little Endian), jpegls (JPEG-LS Lossless) or jpeg (JPEG baseline,
    lossy, Lossy Image Compression "01"); compressed cines get more frames to reach the size."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGBaseline8Bit, JPEGLSLossless, generate_uid

    ratio = {"native": 1.0, "jpegls": 1.45, "jpeg": 2.2}[syntax]  # about the compression of these frames
    frames = max(2, int(megabytes * 1_000_000 * ratio) // (ROWS * COLS))
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, size=(ROWS, COLS), dtype=np.uint8)
    pixels = np.empty((frames, ROWS, COLS), dtype=np.uint8)
    if text:
        from PIL import Image, ImageDraw, ImageFont

        img = Image.fromarray(base)
        ImageDraw.Draw(img).text((60, 80), text, fill=230, font=ImageFont.load_default(size=28))
        base = np.asarray(img)
    for f in range(frames):
        pixels[f] = np.roll(base, f * 3 if moving else 0, axis=1)
        pixels[f, 20:60, 40:600] = 200  # banner band where an archive burns in text
    sop_class = US_MULTIFRAME if modality == "US" else XA
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = modality
    ds.PatientName = "Synthetic^Cine"
    ds.PatientID = "BENCH-0001"
    ds.PatientBirthDate = "19700101"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240601"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC0001"
    ds.StudyDescription = "Memory benchmark cine"
    ds.InstitutionName = "Synthetic Hospital"
    ds.Manufacturer = "deid-bench"
    ds.BurnedInAnnotation = "YES"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.NumberOfFrames = frames
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if modality == "US":
        ds.FrameTime = 33.3
    if syntax == "native":
        ds.PixelData = pixels.tobytes()
    else:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate(_encoded_frames(pixels, syntax), has_bot=True)
        ds["PixelData"].is_undefined_length = True
        meta.TransferSyntaxUID = JPEGLSLossless if syntax == "jpegls" else JPEGBaseline8Bit
        if syntax == "jpeg":
            ds.LossyImageCompression, ds.LossyImageCompressionMethod = "01", "ISO_10918_1"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return frames


@dataclass
class Peak:
    total_kb: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    samples: int = 0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(root: int) -> list[int]:
    children, out, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss_kb(pid: int) -> tuple[str, int]:
    """(kind, VmRSS kB) of a process; kind is jvm, python or other (never its arguments)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return "gone", 0
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    kind = "jvm" if exe == "java" else "python" if exe.startswith("python") else "other"
    return kind, rss


def watch(proc: subprocess.Popen[bytes], interval: float = 0.1) -> Peak:
    """Poll the process tree until ``proc`` exits; the peak of the summed RSS and per kind."""
    peak = Peak()
    while proc.poll() is None:
        total, kinds = 0, dict[str, int]()
        for pid in _tree(proc.pid):
            kind, rss = _rss_kb(pid)
            total += rss
            kinds[kind] = kinds.get(kind, 0) + rss
        if total > peak.total_kb:
            peak.total_kb = total
        for k, v in kinds.items():
            peak.by_kind[k] = max(peak.by_kind.get(k, 0), v)
        peak.samples += 1
        time.sleep(interval)
    return peak


def run(work: Path, megabytes: int, modality: str, pixels: bool, driver_memory: str) -> dict[str, object]:
    export = work / "export"
    t0 = time.perf_counter()
    frames = write_cine(export / "cine.dcm", megabytes, modality)
    gen_s = time.perf_counter() - t0
    size = (export / "cine.dcm").stat().st_size
    cfg = work / "bench.yaml"
    cfg.write_text(
        f"spark:\n  master: local[2]\n  driver_memory: {driver_memory}\n"
        f"ingest:\n  max_file_bytes: {max(size + 1, 536870912)}\n"
        f"pixels:\n  enabled: {'true' if pixels else 'false'}\n")
    env = dict(os.environ)
    if not env.get("DEID_KEY"):
        from deid.keys import new_master_key

        env["DEID_KEY"] = new_master_key()
    cmd = [sys.executable, "-m", "deid.cli", "run", "--config", str(cfg), "--input", str(export),
           "--output", str(work / "out")]
    t1 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak = watch(proc)
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    wall = time.perf_counter() - t1
    status = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("status:")),
                  "unknown")
    return {"file_mb": round(size / 1e6, 1), "frames": frames, "modality": modality, "pixels": pixels,
            "driver_memory": driver_memory, "generate_s": round(gen_s, 1), "run_s": round(wall, 1),
            "exit_code": proc.returncode, "status": status,
            "peak_rss_mb": round(peak.total_kb / 1024, 1),
            "peak_rss_mb_by_kind": {k: round(v / 1024, 1) for k, v in sorted(peak.by_kind.items())
                                    if k != "gone"},
            "peak_over_file_size": round(peak.total_kb * 1024 / size, 2), "samples": peak.samples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--modality", choices=["US", "XA"], default="US")
    ap.add_argument("--pixels", action="store_true", help="also run the pixel stage (OCR)")
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("--quick", action="store_true", help="a ~24 MB cine (smoke check)")
    ap.add_argument("--workdir")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deid-mem-", dir=args.workdir) as tmp:
        res = run(Path(tmp), 24 if args.quick else args.mb, args.modality, args.pixels, args.driver_memory)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0 if res["exit_code"] in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
