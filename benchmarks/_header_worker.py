"""Times one header de-identification tool over a file list, in the calling interpreter.

Run by bench_header.py: ``python _header_worker.py probe|time TOOL LISTFILE``; prints JSON. The tools under
comparison live in separate environments because pydicom/deid's import name is ``deid`` too.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def ours(paths: list[str]):  # type: ignore[no-untyped-def]
    from deid.dicomio import read_dicom, write_dicom
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    engine = HeaderEngine(load_profile(os.environ.get("BENCH_PROFILE", "research")), load_keyring())

    def one(data: bytes, path: str) -> None:
        ds = read_dicom(data)
        res = engine.deidentify(ds, in_place=True)
        engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
        write_dicom(res.dataset)

    return one


def dicognito(paths: list[str]):  # type: ignore[no-untyped-def]
    import pydicom
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="benchmark")

    def one(data: bytes, path: str) -> None:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
        anonymizer.anonymize(ds)
        ds.save_as(io.BytesIO())

    return one


def pydicom_deid(paths: list[str]):  # type: ignore[no-untyped-def]
    from deid.dicom import replace_identifiers

    from deid.config import DeidRecipe

    recipe = DeidRecipe()  # the package's default recipe (DICOM header actions)

    def one(data: bytes, path: str) -> None:
        for ds in replace_identifiers(dicom_files=[path], deid=recipe, save=False):
            ds.save_as(io.BytesIO())

    return one


TOOLS = {"deid-pipeline": ours, "dicognito": dicognito, "pydicom-deid": pydicom_deid}


def main() -> None:
    mode, tool, listfile = sys.argv[1], sys.argv[2], sys.argv[3]
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    paths = [line.strip() for line in Path(listfile).read_text().splitlines() if line.strip()]
    blobs = [Path(p).read_bytes() for p in paths]
    one = TOOLS[tool](paths)
    if mode == "probe":  # which files this tool handles at all
        ok = []
        for data, path in zip(blobs, paths, strict=False):
            try:
                one(data, path)
                ok.append(path)
            except Exception:  # noqa: BLE001 - a competitor's failure on one file only drops the file
                pass
        print(json.dumps(ok))
        return
    for data, path in zip(blobs, paths, strict=False):  # warm-up: imports, caches
        one(data, path)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for data, path in zip(blobs, paths, strict=False):
            one(data, path)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"tool": tool, "files": len(paths), "seconds": best, "files_per_s": len(paths) / best}))


if __name__ == "__main__":
    main()
