"""Shared fixtures: ONE local SparkSession for the whole test session, THE test key, test inputs.

``../shared/data/dicom`` beside the checkout is found one way, :data:`deid.samples.SHARED_DATA`
(the ``shared_data`` fixture skips without it).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fixture_key import TEST_KEY

from deid.keys import KeyRing
from deid.samples import SHARED_DATA


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The one local Spark session (local[2], UI off, UTC) every Spark test shares."""
    from deid.config import SparkConfig
    from deid.spark_session import get_spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = get_spark(SparkConfig(master="local[2]", app_name="deid-tests", ui_enabled=False,
                                    shuffle_partitions=2, driver_memory="2g"))
    yield session
    session.stop()


@pytest.fixture
def deid_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The test key in ``DEID_KEY`` (where the pipeline reads it), as hex."""
    monkeypatch.setenv("DEID_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture(scope="session")
def test_keyring() -> KeyRing:
    """The test key as a key ring (tests that call the engines directly)."""
    return KeyRing(bytes.fromhex(TEST_KEY))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data/dicom`` (real curated DICOM files); the test is skipped without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/dicom is not present")
    return SHARED_DATA


def package_dicom_files() -> list[Path]:
    """Real DICOM files that ship with installable packages (pydicom, deid-data)."""
    from pydicom.data import get_testdata_file

    files: list[Path] = []
    for name in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "no_meta.dcm"):
        p = get_testdata_file(name)
        if p:
            files.append(Path(str(p)))
    try:
        import deid_data  # type: ignore[import-not-found]

        root = Path(deid_data.__file__).parent / "data"
        files += sorted((root / "dicom-cookies").glob("image[12].dcm"))
        files += sorted((root / "humans").glob("ctbrain1.dcm"))
    except ImportError:
        pass
    return files


# the two 1536x2048 JPEG images of deid-data: their OCR (pixel stage and gate) is most of a run's time
LARGE_IMAGES = ("image1.dcm", "image2.dcm")


def make_export_dir(root: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """A small export folder at ``root``: real DICOM files (nested, names like an archive export) and
    bad files; ``leave_out``: source file names not to copy."""
    for i, src in enumerate(package_dicom_files()):
        if src.name in leave_out:
            continue
        dest = root / f"DOE^JOHN_{i}" / "series 1" / f"IM{i:04d}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    bad = root / "bad"
    bad.mkdir(parents=True)
    (bad / "empty.dcm").write_bytes(b"")
    (bad / "notes.txt").write_bytes(b"this is not a DICOM file at all, just some text\n" * 4)
    good = package_dicom_files()[0].read_bytes()
    (bad / "truncated.dcm").write_bytes(good[: len(good) // 3])
    return root


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    """A small export folder (:func:`make_export_dir`) in the test's own folder."""
    return make_export_dir(tmp_path / "export")


@pytest.fixture
def small_export_dir(tmp_path: Path) -> Path:
    """The export folder less its two large images (:data:`LARGE_IMAGES`), for tests of a run's control
    flow (faults, recovery) rather than of its pixels: their OCR would be most of each run's time. The
    pixels of the small CT/MR/NM images still go through the pixel stage and the gate's OCR."""
    return make_export_dir(tmp_path / "export", leave_out=LARGE_IMAGES)


@dataclass(frozen=True)
class CliRun:
    """One ``deid run --input EXPORT --output OUT`` (the console command, in this process)."""

    export: Path
    out: Path
    code: int
    stdout: str
    stderr: str

    def phi_zone(self, suffix: str) -> Path:
        """A PHI zone ``deid run`` put beside the output (``phi-raw``, ``crosswalk``)."""
        return Path(f"{self.out}.{suffix}")


@pytest.fixture(scope="session")
def released_run(spark: object, tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """``deid run`` of an export folder (:func:`make_export_dir`) with the test key, once per session.

    A full run (pixels and the quality gate on) costs a minute or more of CI; tests that only read what
    a default first run released, or rerun on it (a rerun adds nothing), share this one. Tests that
    change the zones' state in other ways (faults, a held gate) make their own.
    """
    from deid.cli import main

    root = tmp_path_factory.mktemp("released")
    export = make_export_dir(root / "export")
    out = root / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        mp.setenv("DEID_KEY", TEST_KEY)
        code = main(["run", "--input", str(export), "--output", str(out)])
    return CliRun(export, out, code, stdout.getvalue(), stderr.getvalue())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the Spark session (directly or through a fixture) ``spark``.

    CI runs ``-m "not spark"`` once and ``-m spark`` under pyspark 4.x and 3.5 (.ci/run).
    """
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
