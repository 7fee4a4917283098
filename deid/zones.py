"""Storage zones and the locations inside them.

Three zones, each a location string (a local path, ``file:``, ``s3a://``, ``abfss://`` or
``dbfs:/Volumes/...``):

* PHI zone (``raw``): bronze and quarantine tables, staging of unreleased runs.
* crosswalk zone: the crosswalk table, readable only by the re-identification group.
* de-identified zone (``output``): DICOM files and the metadata, runs and redactions tables.

This module owns every location and every byte outside the Delta tables: it turns a location into what
each engine wants (Spark, delta-rs, pyarrow.fs), reads, writes and moves files (no other module but
:mod:`deid.tables` touches ``pyarrow.fs``) and refuses unsafe layouts. Messages name zones, never the
locations (an export path may carry a name).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlparse

import pyarrow.fs as pafs

from deid.config import ZonesConfig
from deid.errors import ConfigError, ZoneError

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


_HADOOP_GLOB = re.compile(r"([\\{}\[\]*?])")


def spark_read_uri(location: str) -> str:
    """The location as a Spark *read* path: literal, never a pattern.

    ``DataFrameReader`` paths go through Hadoop's ``FileSystem.globStatus``: ``[1]``, ``*``, ``?`` and
    ``{a,b}`` in a folder name would match other folders (or nothing). Hadoop's glob syntax escapes a
    metacharacter with a backslash, so each of ``\\ { } [ ] * ?`` in the path part is escaped. Write
    paths are never globbed: use :func:`spark_uri` for those.
    """
    uri = spark_uri(location)
    if "://" in uri:
        start = uri.find("/", uri.index("://") + 3)
        start = len(uri) if start < 0 else start
    else:  # dbfs:/...
        start = uri.find(":") + 1
    return uri[:start] + _HADOOP_GLOB.sub(r"\\\1", uri[start:])


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


# ---------------------------------------------------------------------------------------------- bytes
def read_bytes(location: str) -> bytes:
    """A whole file from any zone (local or object store) through pyarrow.fs.

    A local file is read straight into one bytes object: pyarrow reads into its own buffer first and
    copies that into bytes, so a large input would briefly take twice its size."""
    fs, path = arrow_fs(location)
    if isinstance(fs, pafs.LocalFileSystem):
        with open(path, "rb") as local:
            return local.read()
    with fs.open_input_stream(path) as fh:
        return bytes(fh.read())


def read_chunks(location: str, size: int = 8 * 1024 * 1024) -> Iterator[bytes]:
    """A file in chunks of ``size`` bytes (hashing a file too large to load)."""
    fs, path = arrow_fs(location)
    with fs.open_input_stream(path) as fh:
        while chunk := fh.read(size):
            yield bytes(chunk)


def write_bytes(location: str, data: bytes) -> None:
    """Write (or overwrite) a file, creating its folder."""
    write_with(location, lambda fh: fh.write(data))


def write_with(location: str, writer: Callable[[BinaryIO], object]) -> None:
    """Write (or overwrite) a file by handing its output stream to ``writer``, creating its folder
    (a writer that encodes as it writes never holds the whole file in memory).

    A writer that fails leaves no partial file behind.
    """
    fs, path = arrow_fs(location)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    try:
        with fs.open_output_stream(path) as fh:
            writer(fh)  # type: ignore[arg-type]  # pyarrow's NativeFile is a binary file object
    except BaseException:
        with contextlib.suppress(OSError):
            fs.delete_file(path)
        raise


def is_file(location: str) -> bool:
    fs, path = arrow_fs(location)
    return bool(fs.get_file_info(path).type == pafs.FileType.File)


def exists(location: str) -> bool:
    """True when a file or folder is there."""
    fs, path = arrow_fs(location)
    return bool(fs.get_file_info(path).type != pafs.FileType.NotFound)


def file_stat(location: str) -> tuple[int | None, int]:
    """(size in bytes, modification time in ns; 0 when unknown) of a file."""
    fs, path = arrow_fs(location)
    info = fs.get_file_info(path)
    return info.size, info.mtime_ns or 0


def move(src: str, dst: str) -> bool:
    """Move a file (rename on one store, copy + delete across stores); True when ``dst`` holds it.

    Idempotent: a file moved by an earlier attempt (``src`` gone, ``dst`` there) counts as moved.
    """
    src_fs, src_path = arrow_fs(src)
    dst_fs, dst_path = arrow_fs(dst)
    if src_fs.get_file_info(src_path).type != pafs.FileType.File:
        return bool(dst_fs.get_file_info(dst_path).type == pafs.FileType.File)
    dst_fs.create_dir(dst_path.rsplit("/", 1)[0], recursive=True)
    if type(src_fs) is type(dst_fs):
        src_fs.move(src_path, dst_path)
    else:  # pragma: no cover - zones on different stores
        with src_fs.open_input_stream(src_path) as r, dst_fs.open_output_stream(dst_path) as w:
            w.write(r.read())
        src_fs.delete_file(src_path)
    return True


def remove_tree(location: str) -> None:
    """Delete a folder and everything in it (nothing when it is absent)."""
    fs, path = arrow_fs(location)
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_dir(path)


def staged_file(staging: str, name: str) -> str:
    """A run's staged DICOM file: ``<staging>/dicom/<name>`` (``staging`` = :meth:`Zones.staging`)."""
    return join(staging, "dicom", name)


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


def check_spark_location(zone: str, location: str) -> None:
    """Refuse a zone location Spark/Hadoop cannot be given literally.

    Glob metacharacters are escaped for reads (:func:`spark_read_uri`), but Hadoop's ``Path`` parses a
    folder name holding ``:`` as a URI scheme once it is globbed ("Relative path in absolute URI"),
    and delta-rs cannot commit under a folder name holding ``\\``. The export itself is exempt: it is
    read by the listing, never by Hadoop.
    """
    _, _, path = _split(location)
    if ":" in path or "\\" in path:
        raise ZoneError(f"the {zone} zone's location has ':' or '\\' in a folder name, which Spark and "
                        "Hadoop cannot read literally; choose a location without them")


def check_zones(*, output: str, raw: str, crosswalk: str, input: str | None = None) -> None:
    """Refuse layouts where PHI could end up in (or be served from) the de-identified zone, and zone
    locations Spark cannot be given literally (:func:`check_spark_location`)."""
    for zone, location in (("output", output), ("raw", raw), ("crosswalk", crosswalk)):
        check_spark_location(zone, location)
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
    """The three zones and every table and folder location derived from them (and the export read)."""

    raw: str
    crosswalk: str
    output: str
    input: str | None = None  # the export (ingest only); never written

    def _table(self, zone: str, name: str) -> str:
        return join(zone, "tables", name)

    # ------------------------------------------------------------------ PHI zone (raw)
    @property
    def bronze(self) -> str:
        """Ingested inputs: their bytes (or a blob reference), sha256, path and routing fields."""
        return self._table(self.raw, "bronze")

    @property
    def blobs(self) -> str:
        """Large inputs (over ``ingest.inline_max_bytes``), stored as ``<sha256>.dcm``: bronze rows
        reference them and the executors read them one at a time."""
        return join(self.raw, "blobs")

    @property
    def quarantine(self) -> str:
        """Inputs that were not de-identified, with the stage, reason code and a PHI-free message;
        in the PHI zone because it lists input paths."""
        return self._table(self.raw, "quarantine")

    @property
    def review(self) -> str:
        """Boxes scored inside the review band, for a person to check (PHI zone: keyed by input sha256)."""
        return self._table(self.raw, "review")

    def staging(self, run_id: str) -> str:
        """A run's staging folder (PHI zone): staged DICOM files, results and verification Parquet."""
        return join(self.raw, "_staging", run_id)

    def staged_file(self, run_id: str, name: str) -> str:
        return staged_file(self.staging(run_id), name)

    # ------------------------------------------------------------------ crosswalk zone
    @property
    def crosswalk_table(self) -> str:
        """Pseudonym -> encrypted original (re-identification group only)."""
        return self._table(self.crosswalk, "crosswalk")

    # ------------------------------------------------------------------ de-identified zone (output)
    @property
    def metadata(self) -> str:
        """One row per released instance: de-identified header fields, patient pseudonym, burned-in
        status, Patient Identity Removed, output path and the keyed source digest."""
        return self._table(self.output, "metadata")

    @property
    def runs(self) -> str:
        """One row per run and stage: counts, status (SUCCEEDED, GATE_FAILED, FAILED), config hash,
        code and key versions. No locations: the configuration hash leaves the zones out."""
        return self._table(self.output, "runs")

    @property
    def redactions(self) -> str:
        """One row per box the pixel stage found, never its text (:class:`deid.pipeline.hooks.BoxRecord`)."""
        return self._table(self.output, "redactions")

    @property
    def quality_results(self) -> str:
        """One row per expectation per run (value-free)."""
        return self._table(self.output, "quality_results")

    @property
    def dicom(self) -> str:
        """Released DICOM files, at ``dicom/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`` (new UIDs)."""
        return join(self.output, "dicom")

    def report_dir(self, run_id: str, *, phi: bool = False) -> str:
        """``<output>/reports/<run_id>`` (``<raw>/...`` for PHI pages): run ids are never PHI."""
        return join(self.raw if phi else self.output, "reports", run_id)

    def check(self, input: str | None = None) -> None:
        check_zones(output=self.output, raw=self.raw, crosswalk=self.crosswalk, input=input or self.input)


def default_phi_zones(output: str) -> tuple[str, str]:
    """Defaults for ``deid run``: PHI zones beside OUT (``OUT.phi-raw``, ``OUT.crosswalk``)."""
    base = output.rstrip("/")
    return base + ".phi-raw", base + ".crosswalk"


def resolve(cfg: ZonesConfig, *, need_input: bool) -> Zones:
    """The zones of a configuration, checked (once per run; passed down from there)."""
    missing = [n for n, v in (("output", cfg.output), ("raw", cfg.raw), ("crosswalk", cfg.crosswalk)) if not v]
    if need_input and not cfg.input:
        missing.insert(0, "input")
    if missing:
        raise ConfigError("zone locations missing: " + ", ".join(f"zones.{m}" for m in missing))
    assert cfg.output and cfg.raw and cfg.crosswalk
    zs = Zones(raw=cfg.raw, crosswalk=cfg.crosswalk, output=cfg.output, input=cfg.input)
    zs.check()
    return zs
