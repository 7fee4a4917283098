"""Real public DICOM files that installable packages carry: the demo input and the test corpus.

* pydicom's bundled test files (MIT; NEMA, GDCM, TCIA and contributors' images);
* the ``deid-data`` package (MIT; includes ultrasounds with burned-in vendor test-patient PHI);
* ``../shared/data/dicom`` beside a checkout, when present (40 curated files, see its README).
"""

from __future__ import annotations

import shutil
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom"


def pydicom_files() -> list[Path]:
    import pydicom.data

    root = Path(pydicom.data.__file__).parent / "test_files"
    return sorted(p for p in root.rglob("*.dcm") if p.is_file())


def deid_data_files() -> list[Path]:
    try:
        import deid_data
    except ImportError:
        return []
    root = Path(deid_data.__file__).parent / "data"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in ("", ".dcm")
                  and "__pycache__" not in p.parts)


def shared_files() -> list[Path]:
    if not SHARED_DATA.is_dir():
        return []
    return sorted(SHARED_DATA.rglob("*.dcm"))


def reachable_files() -> list[Path]:
    """Every real DICOM-ish file reachable, sorted, unfiltered (the real-corpus test's input, broken
    files included): all of pydicom's test data files, every file of deid-data, and ``../shared/data/dicom``
    less its README/CSV notes."""
    from pydicom.data import get_testdata_files

    files = [Path(p) for p in get_testdata_files() if Path(p).is_file()]
    try:
        import deid_data
    except ImportError:
        pass
    else:
        files += [p for p in (Path(deid_data.__file__).parent / "data").rglob("*") if p.is_file()]
    if SHARED_DATA.is_dir():
        files += [p for p in SHARED_DATA.rglob("*") if p.is_file() and p.suffix not in (".md", ".csv")]
    return sorted(files)


def copy_samples(dest: Path, *, include_shared: bool = False) -> int:
    """Lay out a small export folder (nested, as archives export) from the installed samples."""
    sources = [("pydicom", pydicom_files()), ("deid-data", deid_data_files())]
    if include_shared:
        sources.append(("shared", shared_files()))
    n = 0
    for label, files in sources:
        for i, src in enumerate(files):
            target = dest / label / f"{i // 20:03d}" / f"{i:05d}.dcm"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            n += 1
    return n
