"""Storage zones and the locations inside them.

Three zones, each a location string (a local path, ``file:``, ``s3a://``, ``abfss://`` or
``dbfs:/Volumes/...``):

* PHI zone (``raw``): bronze and quarantine tables, staging of unreleased runs.
* crosswalk zone: the crosswalk table, readable only by the re-identification group.
* de-identified zone (``output``): DICOM files and the metadata, runs and redactions tables.

This module turns a location into what each engine wants (Spark, delta-rs, pyarrow.fs) and refuses
unsafe layouts. Messages name zones, never the locations (an export path may carry a name).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import pyarrow.fs as pafs

from deid.errors import ZoneError

_LOCAL_SCHEMES = ("", "file")


def _split(location: str) -> tuple[str, str, str]:
    """(scheme, authority, absolute posix path) of a location; local paths are made absolute."""
    loc = location.strip()
    if loc.startswith("dbfs:/Volumes/") or loc.startswith("/Volumes/"):
        # Unity Catalog volumes are FUSE-mounted at /Volumes on Databricks compute
        return "", "", "/Volumes/" + loc.split("/Volumes/", 1)[1].strip("/")
    parsed = urlparse(loc)
    if parsed.scheme in _LOCAL_SCHEMES or (len(parsed.scheme) == 1 and os.name == "nt"):
        path = parsed.path if parsed.scheme == "file" else loc
        return "", "", os.path.abspath(os.path.expanduser(path))
    scheme = "s3" if parsed.scheme in ("s3a", "s3n") else parsed.scheme
    return scheme, parsed.netloc, "/" + parsed.path.strip("/")


def is_local(location: str) -> bool:
    return _split(location)[0] == ""


def local_path(location: str) -> Path:
    scheme, _, path = _split(location)
    if scheme:
        raise ZoneError("this operation needs a local or mounted location")
    return Path(path)


def join(location: str, *parts: str) -> str:
    base = location.rstrip("/")
    return "/".join([base, *(p.strip("/") for p in parts if p)])


def spark_uri(location: str) -> str:
    """The location as Spark reads it (``file:`` URIs for local paths; s3a kept for Hadoop)."""
    if location.strip().startswith("dbfs:/"):
        return location.strip().rstrip("/")
    scheme, netloc, path = _split(location)
    if not scheme:
        return "file://" + path
    original = urlparse(location.strip()).scheme
    return f"{original}://{netloc}{path}"


def deltars_uri(location: str) -> str:
    """The location as delta-rs reads it (plain local paths, ``s3://`` for ``s3a://``)."""
    scheme, netloc, path = _split(location)
    return path if not scheme else f"{scheme}://{netloc}{path}"


def arrow_fs(location: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it (local, S3, Azure, GCS)."""
    scheme, netloc, path = _split(location)
    if not scheme:
        return pafs.LocalFileSystem(), path
    fs, inner = pafs.FileSystem.from_uri(f"{scheme}://{netloc}{path}")
    return fs, inner


def _parts(location: str) -> tuple[str, str, tuple[str, ...]]:
    scheme, netloc, path = _split(location)
    return scheme, netloc, tuple(p for p in PurePosixPath(path).parts if p != "/")


def read_bytes(location: str) -> bytes:
    """A whole file from any zone (local or object store) through pyarrow.fs."""
    fs, path = arrow_fs(location)
    with fs.open_input_stream(path) as fh:
        return bytes(fh.read())


def overlaps(a: str, b: str) -> bool:
    """True when one location is the other or lies inside it."""
    sa, na, pa = _parts(a)
    sb, nb, pb = _parts(b)
    if (sa, na) != (sb, nb):
        return False
    n = min(len(pa), len(pb))
    return pa[:n] == pb[:n]


def inside(child: str, parent: str) -> bool:
    sc, nc, pc = _parts(child)
    sp, np_, pp = _parts(parent)
    return (sc, nc) == (sp, np_) and pc[: len(pp)] == pp


def check_zones(*, output: str, raw: str, crosswalk: str, input: str | None = None) -> None:
    """Refuse layouts where PHI could end up in (or be served from) the de-identified zone."""
    if inside(raw, output):
        raise ZoneError("the PHI zone (raw) lies inside the de-identified output; move it outside")
    if inside(crosswalk, output):
        raise ZoneError("the crosswalk zone lies inside the de-identified output; move it outside")
    if inside(output, raw) or inside(output, crosswalk):
        raise ZoneError("the de-identified output lies inside a PHI zone; give it its own location")
    if overlaps(raw, crosswalk):
        raise ZoneError("the crosswalk zone and the PHI zone (raw) overlap; give each its own location")
    if input is not None and overlaps(input, output):
        raise ZoneError("the export (input) and the de-identified output overlap")


def secure_local_tree(location: str) -> None:
    """Local crosswalk zone: directories 0700, files 0600 (no-op on object stores)."""
    if not is_local(location):
        return
    root = local_path(location)
    if not root.exists():
        return
    os.chmod(root, stat.S_IRWXU)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), stat.S_IRWXU)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), stat.S_IRUSR | stat.S_IWUSR)


def make_private_dir(location: str) -> None:
    """Create a local directory with mode 0700 (object stores need no directories)."""
    if not is_local(location):
        return
    p = local_path(location)
    p.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(p, stat.S_IRWXU)


@dataclass(frozen=True)
class Zones:
    """The three zones and every table and folder location derived from them."""

    raw: str
    crosswalk: str
    output: str

    @property
    def bronze(self) -> str:
        return join(self.raw, "tables", "bronze")

    @property
    def blobs(self) -> str:
        """Large inputs, stored by sha256 in the PHI zone (bronze rows reference them)."""
        return join(self.raw, "blobs")

    @property
    def quarantine(self) -> str:
        return join(self.raw, "tables", "quarantine")

    def staging(self, run_id: str) -> str:
        return join(self.raw, "_staging", run_id)

    @property
    def crosswalk_table(self) -> str:
        return join(self.crosswalk, "tables", "crosswalk")

    @property
    def metadata(self) -> str:
        return join(self.output, "tables", "metadata")

    @property
    def runs(self) -> str:
        return join(self.output, "tables", "runs")

    @property
    def redactions(self) -> str:
        return join(self.output, "tables", "redactions")

    @property
    def review(self) -> str:
        return join(self.raw, "tables", "review")

    @property
    def dicom(self) -> str:
        return join(self.output, "dicom")

    def check(self, input: str | None = None) -> None:
        check_zones(output=self.output, raw=self.raw, crosswalk=self.crosswalk, input=input)


def default_phi_zones(output: str) -> tuple[str, str]:
    """Defaults for ``deid run``: PHI zones beside OUT (``OUT.phi-raw``, ``OUT.crosswalk``)."""
    base = output.rstrip("/")
    return base + ".phi-raw", base + ".crosswalk"
