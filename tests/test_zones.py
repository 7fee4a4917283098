"""deid.zones: locations for each engine, unsafe layouts refused, and every byte read, written and moved."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from deid import zones
from deid.config import ZonesConfig
from deid.errors import ConfigError, ZoneError


@pytest.mark.parametrize(("location", "spark", "deltars"), [
    ("/data/out", "file:///data/out", "/data/out"),
    ("file:///data/out/", "file:///data/out", "/data/out"),
    ("s3a://bucket/a/b/", "s3a://bucket/a/b", "s3://bucket/a/b"),
    ("s3://bucket/a", "s3://bucket/a", "s3://bucket/a"),
    ("abfss://c@acct.dfs.core.windows.net/x", "abfss://c@acct.dfs.core.windows.net/x",
     "abfss://c@acct.dfs.core.windows.net/x"),
    ("dbfs:/Volumes/main/deid/out", "dbfs:/Volumes/main/deid/out", "/Volumes/main/deid/out"),
])
def test_engine_uris(location: str, spark: str, deltars: str) -> None:
    assert zones.spark_uri(location) == spark
    assert zones.deltars_uri(location) == deltars


def test_relative_local_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert zones.is_local("out") and zones.local_path("out") == tmp_path / "out"
    with pytest.raises(ZoneError):
        zones.local_path("s3a://bucket/out")


@pytest.mark.parametrize(("a", "b", "overlap", "a_inside_b"), [
    ("/z/out", "/z/out", True, True),
    ("/z/out/raw", "/z/out", True, True),
    ("/z/out", "/z/out/raw", True, False),
    ("/z/out", "/z/outside", False, False),  # a shared prefix of characters is not a folder
    ("s3a://b/out", "s3a://b/out/x", True, False),
    ("s3a://b/out", "s3a://other/out", False, False),
])
def test_overlaps_and_inside(a: str, b: str, overlap: bool, a_inside_b: bool) -> None:
    assert zones.overlaps(a, b) is overlap and zones.overlaps(b, a) is overlap
    assert zones.inside(a, b) is a_inside_b


@pytest.mark.parametrize(("layout", "message"), [
    ({"raw": "/z/out/raw"}, "PHI zone .raw. lies inside"),
    ({"crosswalk": "/z/out/xw"}, "crosswalk zone lies inside"),
    ({"raw": "/z", "crosswalk": "/q/xw"}, "output lies inside a PHI zone"),
    ({"crosswalk": "/z/raw/xw"}, "overlap"),
    ({"input": "/z/out/export"}, "export .input. and the de-identified output overlap"),
])
def test_unsafe_layouts_are_refused(layout: dict[str, str], message: str) -> None:
    given = {"output": "/z/out", "raw": "/z/raw", "crosswalk": "/z/xw", **layout}
    with pytest.raises(ZoneError, match=message):
        zones.resolve(ZonesConfig(**given), need_input=False)


@pytest.mark.parametrize(("location", "read"), [
    ("/data/out [1]/t", "file:///data/out \\[1\\]/t"),
    ("/data/star*/a?b/{x,y}", "file:///data/star\\*/a\\?b/\\{x,y\\}"),
    ("/data/plain out/t", "file:///data/plain out/t"),
    ("s3a://bucket/out[2]/t", "s3a://bucket/out\\[2\\]/t"),
    ("dbfs:/Volumes/main/[x]", "dbfs:/Volumes/main/\\[x\\]"),
])
def test_spark_read_paths_escape_hadoop_glob_characters(location: str, read: str) -> None:
    assert zones.spark_read_uri(location) == read
    assert zones.spark_uri(location) == read.replace("\\", "")  # write paths are never globbed


@pytest.mark.parametrize("zone", ["output", "raw", "crosswalk"])
@pytest.mark.parametrize("name", ["scan 12:30", "a\\b"])
def test_zone_names_hadoop_cannot_take_are_refused(zone: str, name: str) -> None:
    given = {"output": "/z/out", "raw": "/z/raw", "crosswalk": "/z/xw", "input": f"/z/in/{name}"}
    zones.resolve(ZonesConfig(**given), need_input=True)  # the export is read by the listing: allowed
    given[zone] = f"/z/{name}/{zone}"
    with pytest.raises(ZoneError, match=f"the {zone} zone's location has ':'") as err:
        zones.resolve(ZonesConfig(**given), need_input=True)
    assert name not in str(err.value)


def test_messages_name_zones_never_locations() -> None:
    secret = "/exports/DOE^JOHN"
    with pytest.raises(ZoneError) as err:
        zones.resolve(ZonesConfig(input=secret, output=secret + "/out", raw="/r", crosswalk="/x"),
                      need_input=True)
    assert "DOE" not in str(err.value)


@pytest.mark.parametrize(("given", "need_input", "missing"), [
    ({}, False, "zones.output, zones.raw, zones.crosswalk"),
    ({"output": "/o", "raw": "/r"}, False, "zones.crosswalk"),
    ({"output": "/o", "raw": "/r", "crosswalk": "/x"}, True, "zones.input"),
])
def test_resolve_names_the_missing_zones(given: dict[str, str], need_input: bool, missing: str) -> None:
    with pytest.raises(ConfigError, match=f"zone locations missing: {missing}$"):
        zones.resolve(ZonesConfig(**given), need_input=need_input)


def test_every_location_lies_in_its_zone() -> None:
    zs = zones.resolve(ZonesConfig(input="/in", output="/o", raw="/r", crosswalk="/x"), need_input=True)
    assert zs.input == "/in"
    phi = [zs.bronze, zs.blobs, zs.quarantine, zs.review, zs.staging("run1"), zs.report_dir("run1", phi=True),
           zs.staged_file("run1", "a.dcm")]
    assert all(zones.inside(loc, zs.raw) for loc in phi)
    assert zones.inside(zs.crosswalk_table, zs.crosswalk)
    public = [zs.metadata, zs.runs, zs.redactions, zs.dicom, zs.quality_results, zs.report_dir("run1")]
    assert all(zones.inside(loc, zs.output) for loc in public)
    assert zs.staged_file("run1", "a.dcm") == zones.staged_file(zs.staging("run1"), "a.dcm") \
        == "/r/_staging/run1/dicom/a.dcm"
    assert zones.default_phi_zones("/d/out/") == ("/d/out.phi-raw", "/d/out.crosswalk")


def test_bytes_written_read_and_moved(tmp_path: Path) -> None:
    src = zones.join(str(tmp_path), "staging", "dicom", "a.dcm")
    dst = zones.join(str(tmp_path), "out", "dicom", "1.2", "3.dcm")
    assert not zones.exists(src) and not zones.is_file(src)
    zones.write_bytes(src, b"DICM" * 3)
    assert zones.is_file(src) and zones.read_bytes(src) == b"DICM" * 3
    size, mtime_ns = zones.file_stat(src)
    assert size == 12 and mtime_ns > 0
    assert b"".join(zones.read_chunks(src, 5)) == b"DICM" * 3
    assert [len(c) for c in zones.read_chunks(src, 5)] == [5, 5, 2]
    assert zones.move(src, dst) and zones.read_bytes(dst) == b"DICM" * 3
    assert not zones.exists(src)
    assert zones.move(src, dst), "moved by an earlier attempt: still counts as moved"
    assert not zones.move(src, zones.join(str(tmp_path), "elsewhere.dcm")), "nothing to move"
    zones.remove_tree(zones.join(str(tmp_path), "out"))
    assert not zones.exists(dst)
    zones.remove_tree(zones.join(str(tmp_path), "out"))  # absent: nothing to do


def test_large_file_hash_by_chunks_equals_whole(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 + 7)
    loc = str(tmp_path / "big.bin")
    zones.write_bytes(loc, data)
    digest = hashlib.sha256()
    for chunk in zones.read_chunks(loc, 1024):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_private_folders_and_files(tmp_path: Path) -> None:
    root = tmp_path / "xw"
    zones.make_private_dir(str(root))
    zones.write_bytes(str(root / "tables" / "t.parquet"), b"x")
    zones.secure_local_tree(str(root))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "tables").stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "tables" / "t.parquet").stat().st_mode) == 0o600
    zones.make_private_dir("s3a://bucket/xw")  # object stores: nothing to do
    zones.secure_local_tree("s3a://bucket/xw")


def test_write_with_leaves_no_partial_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "staging" / "x.dcm"

    def failing(fh) -> None:  # type: ignore[no-untyped-def]
        fh.write(b"half a file")
        raise ValueError("encoder failed")

    with pytest.raises(ValueError):
        zones.write_with(str(target), failing)
    assert not target.exists()
    zones.write_with(str(target), lambda fh: fh.write(b"whole"))
    assert target.read_bytes() == b"whole"
