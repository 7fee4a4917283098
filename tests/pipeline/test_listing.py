"""Literal, total listing: names are never patterns, every entry is classified (no Spark)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from deid.errors import ConfigError, InputError, Reason
from deid.pipeline.listing import EntryReader, list_input


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "in"
    (root / "Study [1]").mkdir(parents=True)
    (root / "Study 1").mkdir()
    (root / "Study [1]" / "a.dcm").write_bytes(b"A")
    (root / "Study 1" / "b.dcm").write_bytes(b"B")
    (root / "_series").mkdir()
    (root / "_series" / ".hidden").write_bytes(b"H")
    (root / "scan 12:30:00.dcm").write_bytes(b"C")
    (root / "star*?.dcm").write_bytes(b"S")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.dcm").write_bytes(b"X")
    os.symlink(outside / "secret.dcm", root / "out-file")
    os.symlink(outside, root / "out-dir")
    os.symlink(root / "missing", root / "dangling")
    os.symlink(root / "Study 1" / "b.dcm", root / "inside-link")
    os.symlink(root / "Study 1", root / "inside-dir-link")
    os.mkfifo(root / "pipe")
    (root / os.fsdecode(b"bad\xff\xfename.dcm")).write_bytes(b"U")
    return root, outside


def test_every_entry_is_classified(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    try:
        listing = list_input(str(root))
    finally:
        sock.close()
    by_name = {e.rel.split(b"/")[-1]: e for e in listing.entries}
    expected = {b"a.dcm": None, b"b.dcm": None, b".hidden": None, b"scan 12:30:00.dcm": None,
                b"star*?.dcm": None, b"inside-link": None, b"out-file": Reason.LINK_OUTSIDE_ROOT,
                b"out-dir": Reason.LINK_OUTSIDE_ROOT, b"dangling": Reason.DANGLING_LINK,
                b"inside-dir-link": Reason.LINK_TO_FOLDER, b"pipe": Reason.NOT_REGULAR_FILE,
                b"sock": Reason.NOT_REGULAR_FILE, b"bad\xff\xfename.dcm": Reason.UNDECODABLE_NAME}
    assert {k: v.reason for k, v in by_name.items()} == expected
    assert len(listing.entries) == len(expected) and listing.n_excluded == 0
    reader = EntryReader(listing.root)
    assert reader.read(by_name[b"scan 12:30:00.dcm"].location) == b"C"
    assert reader.read(by_name[b"inside-link"].location) == b"B"
    assert all("\udcff" not in e.location for e in listing.entries)  # storable as UTF-8
    assert len({e.pseudo_sha256 for e in listing.rejected}) == len(listing.rejected)


def test_glob_characters_are_literal(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    listing = list_input(str(root / "Study [1]"))
    assert [e.rel for e in listing.entries] == [b"a.dcm"]
    assert EntryReader(listing.root).read(listing.entries[0].location) == b"A"


def test_outside_links_followed_only_when_asked(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    listing = list_input(str(root), follow_outside_links=True)
    by_name = {e.rel: e for e in listing.entries}
    assert by_name[b"out-file"].reason is None
    assert by_name[b"out-dir"].reason is Reason.LINK_TO_FOLDER  # folders are never followed


@pytest.mark.parametrize("glob,recursive,names,excluded", [
    ("*.dcm", True, {b"a.dcm", b"b.dcm", b"scan 12:30:00.dcm", b"star*?.dcm", b"bad\xff\xfename.dcm"}, 7),
    ("*", False, {b"scan 12:30:00.dcm", b"star*?.dcm", b"out-file", b"out-dir", b"dangling",
                  b"inside-link", b"inside-dir-link", b"pipe", b"bad\xff\xfename.dcm"}, 3),
])
def test_glob_and_recursion_exclusions_are_counted(tmp_path: Path, glob: str, recursive: bool,
                                                   names: set[bytes], excluded: int) -> None:
    root, _ = _tree(tmp_path)
    listing = list_input(str(root), recursive=recursive, path_glob=glob)
    assert {e.rel.split(b"/")[-1] for e in listing.entries} == names
    assert listing.n_excluded == excluded


def test_missing_input_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        list_input(str(tmp_path / "nope"))


def test_single_file_input(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    listing = list_input(str(root / "scan 12:30:00.dcm"))
    assert len(listing.entries) == 1 and EntryReader(listing.root).read(listing.entries[0].location) == b"C"


def test_reader_refuses_a_fifo_swapped_in_after_listing(tmp_path: Path) -> None:
    root, _ = _tree(tmp_path)
    listing = list_input(str(root))
    target = next(e for e in listing.entries if e.rel == b"scan 12:30:00.dcm")
    os.remove(root / "scan 12:30:00.dcm")
    os.mkfifo(root / "scan 12:30:00.dcm")
    with pytest.raises(InputError, match="UNREADABLE"):
        EntryReader(listing.root).read(target.location)


def _reads_anything(tmp_path: Path) -> bool:
    """Root (or CAP_DAC_OVERRIDE) reads a file of mode 000: then nothing here is unreadable."""
    probe = tmp_path / "probe"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        probe.read_bytes()
        return True
    except PermissionError:
        return False
    finally:
        probe.chmod(0o600)
        probe.unlink()


def test_unreadable_files_and_folders_are_each_accounted_for(tmp_path: Path) -> None:
    if os.geteuid() == 0 and _reads_anything(tmp_path):
        pytest.skip("running as root: files of mode 000 are readable (run as a user, or as root "
                    "without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH)")
    root = tmp_path / "in"
    for rel in ("ok.dcm", "unreadable.dcm", "locked/a.dcm", "no-entry/b.dcm", "no-entry/c.dcm"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"DICM")
    (root / "unreadable.dcm").chmod(0)
    (root / "locked").chmod(0)
    (root / "no-entry").chmod(0o444)  # lists, cannot be entered
    try:
        listing = list_input(str(root))
        reasons = {e.rel: e.reason for e in listing.entries}
        assert reasons == {b"ok.dcm": None, b"unreadable.dcm": None, b"locked": Reason.UNREADABLE,
                           b"no-entry/b.dcm": Reason.UNREADABLE, b"no-entry/c.dcm": Reason.UNREADABLE}
        reader = EntryReader(listing.root)
        assert reader.read(str(root / "ok.dcm")) == b"DICM"
        with pytest.raises(InputError, match="UNREADABLE"):  # a quarantine row at ingest
            reader.read(str(root / "unreadable.dcm"))
        assert all(str(root) not in e.message for e in listing.entries)
    finally:
        for rel in ("unreadable.dcm", "locked", "no-entry"):
            (root / rel).chmod(0o700)
