"""What cleaning kept codestreams costs (deid.pixels.codestream.clean_codestream), two source trees side
by side on every real compressed frame, and whether their outputs are the same.

    python benchmarks/bench_codestream.py --tree before=/tmp/base --tree after=.

Each frame is cleaned by both trees alternately (A, B, then B, A), so load drift on a shared machine
hits both alike; per frame kind (JPEG SOFn, JPEG-LS, JPEG 2000, RLE; frames over 200 KB apart) it prints
milliseconds per frame for each tree and how many frames' outputs differ. The real files are the
real-corpus test's (``deid.samples.reachable_files``, pydicom's test files); no file name is printed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any


def _load(tree: str) -> ModuleType:
    """deid.pixels.codestream of ``tree`` (the modules of the other tree are dropped first)."""
    sys.path.insert(0, str(Path(tree).resolve()))
    for name in [m for m in sys.modules if m == "deid" or m.startswith("deid.")]:
        del sys.modules[name]
    module = importlib.import_module("deid.pixels.codestream")
    sys.path.pop(0)
    return module


def _files() -> list[Path]:
    from pydicom.data import get_testdata_files

    from deid.samples import reachable_files

    seen, out = set(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = {Path(p) for p in get_testdata_files("*")} | set(reachable_files())
    for path in sorted(paths):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                out.append(path)
    return out


def _kind(stream: bytes, syntax: str) -> str:
    if syntax == "1.2.840.10008.1.2.5":
        return "RLE"
    if stream[:2] == b"\xff\x4f":
        return "J2K"
    if stream[:2] != b"\xff\xd8":
        return "other"
    pos = 2
    while pos + 4 <= len(stream) and stream[pos] == 0xFF:
        code = stream[pos + 1]
        if code == 0xF7:
            return "JPEG-LS"
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return f"JPEG SOF{code - 0xC0:X}"
        pos += 2 + int.from_bytes(stream[pos + 2:pos + 4], "big")
    return "JPEG?"


def _frames() -> list[tuple[str, bytes, str, tuple[int, int, int, int]]]:
    import pydicom
    from pydicom.encaps import generate_frames

    out = []
    for path in _files():
        try:
            ds = pydicom.dcmread(path)
            syntax = ds.file_meta.TransferSyntaxUID
            if "PixelData" not in ds or not syntax.is_encapsulated:
                continue
            count = max(int(ds.get("NumberOfFrames", 1) or 1), 1)
            geometry = (int(ds.Rows), int(ds.Columns), int(ds.get("SamplesPerPixel", 1) or 1), int(ds.BitsAllocated))
            for stream in generate_frames(ds.PixelData, number_of_frames=count):
                kind = _kind(stream, str(syntax)) + (" >200KB" if len(stream) > 200_000 else "")
                out.append((kind, stream, str(syntax), geometry))
        except Exception:  # noqa: BLE001 - unreadable files are not frames
            continue
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="name=path, twice")
    args = parser.parse_args(argv)
    trees = [t.split("=", 1) for t in args.tree]
    if len(trees) != 2:
        parser.error("two --tree name=path")
    frames = _frames()
    modules = [(name, _load(path)) for name, path in trees]
    rows: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0, 0])
    warnings.simplefilter("ignore")
    for kind, stream, syntax, geometry in frames:
        outs: list[Any] = [None, None]
        row = rows[kind]
        for order in ((0, 1), (1, 0)):
            for i in order:
                start = time.perf_counter()
                outs[i] = modules[i][1].clean_codestream(stream, syntax, geometry)
                row[1 + i] += (time.perf_counter() - start) / 2
        row[0] += 1
        row[3] += outs[0] != outs[1]
    (a, _), (b, _) = modules
    print(f"{'kind':16s} {'frames':>6s} {a + ' ms':>12s} {b + ' ms':>12s} {'differ':>6s}")
    for kind in sorted(rows):
        n, ta, tb, differ = rows[kind]
        print(f"{kind:16s} {int(n):6d} {ta / n * 1000:12.2f} {tb / n * 1000:12.2f} {int(differ):6d}")
    n = sum(r[0] for r in rows.values())
    ta, tb = sum(r[1] for r in rows.values()), sum(r[2] for r in rows.values())
    print(f"{'all':16s} {int(n):6d} {ta / n * 1000:12.2f} {tb / n * 1000:12.2f} {int(sum(r[3] for r in rows.values())):6d}")
    return {k: list(v) for k, v in rows.items()}


if __name__ == "__main__":
    main()
