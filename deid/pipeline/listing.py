"""Literal, total listing of an export: every entry under the input is accounted for.

The input location is never a pattern: it is listed through the filesystem API (``os.scandir`` on
local and mounted paths, ``pyarrow.fs.FileSelector`` on object stores), never handed to Spark's file
sources (which expand globs, reject ``:`` in names and skip names starting with ``_`` or ``.``).
Executors read each listed file by its location through :class:`EntryReader` (``open()`` or
``pyarrow.fs``), so a folder named ``Study [1]`` reads only its own files and a file name can never
crash a run.

Every entry becomes one :class:`Entry`: a plain readable file to ingest (``reason is None``) or an
entry quarantined at listing with a reason code: FIFOs, sockets and devices (``NOT_REGULAR_FILE``),
dangling links (``DANGLING_LINK``), links leading outside the input root (``LINK_OUTSIDE_ROOT``, not
followed unless ``ingest.follow_outside_links``), links to folders (``LINK_TO_FOLDER``, never
followed: no loops), unreadable folders (``UNREADABLE``) and names that are not valid UTF-8
(``UNDECODABLE_NAME``: they cannot be stored as a path). Hidden and ``_``-prefixed names are ordinary
inputs. Files whose name does not match ``ingest.path_glob`` (or below the top level when
``ingest.recursive`` is off) are counted as excluded.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pyarrow.fs as pafs

from deid import zones
from deid.errors import ConfigError, InputError, Reason

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}


@dataclass(frozen=True)
class Entry:
    """One entry under the input root. ``location`` is the literal root location + relative path."""

    location: str
    size: int
    mtime_ns: int
    reason: Reason | None = None
    message: str = ""
    rel: bytes = b""

    @property
    def pseudo_sha256(self) -> str:
        """Stable key for an entry whose content cannot be read (re-listing it is "already known")."""
        reason = self.reason.value if self.reason else ""
        return hashlib.sha256(b"deid-entry\0" + reason.encode() + b"\0" + self.rel).hexdigest()


@dataclass
class Listing:
    root: str
    entries: list[Entry] = field(default_factory=list)
    n_excluded: int = 0

    @property
    def files(self) -> list[Entry]:
        return [e for e in self.entries if e.reason is None]

    @property
    def rejected(self) -> list[Entry]:
        return [e for e in self.entries if e.reason is not None]


def _root_location(location: str) -> str:
    """The literal root location: local paths are used as given (only made absolute)."""
    if zones.is_local(location) and not location.startswith(("file:", "dbfs:")):
        return os.path.abspath(location).rstrip("/") or "/"
    return location.rstrip("/")


def list_input(location: str, *, recursive: bool = True, path_glob: str = "*",
               follow_outside_links: bool = False) -> Listing:
    """Every entry under ``location`` (a folder or a single file), classified; raises
    :class:`ConfigError` only when the input itself does not exist."""
    root = _root_location(location)
    if zones.is_local(root):
        local = root if not root.startswith(("file:", "dbfs:")) else str(zones.local_path(root))
        return _list_local(root, os.fsencode(local), recursive, path_glob, follow_outside_links)
    return _list_remote(root, recursive, path_glob)


def _name_ok(name: bytes, path_glob: str) -> bool:
    text = name.decode("utf-8", "surrogateescape")
    return path_glob in ("*", "") or fnmatch.fnmatchcase(text, path_glob)


def _list_local(root: str, root_b: bytes, recursive: bool, path_glob: str, follow_outside: bool) -> Listing:
    listing = Listing(root)
    try:
        st = os.stat(root_b)
    except OSError:
        raise ConfigError("the input (export) location does not exist or cannot be read") from None
    if not stat.S_ISDIR(st.st_mode):  # a single file given as input
        parent, name = os.path.split(root_b)
        listing.root = os.fsdecode(parent) or "/"
        listing.entries.append(_classify(listing.root, parent, name, os.path.realpath(parent), follow_outside))
        return listing
    real_root = os.path.realpath(root_b)
    stack: list[bytes] = [b""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(os.path.join(root_b, rel_dir) if rel_dir else root_b) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError:
            listing.entries.append(_entry(root, rel_dir, 0, 0, Reason.UNREADABLE, "a folder cannot be listed"))
            continue
        for child in children:
            rel = os.path.join(rel_dir, child.name) if rel_dir else child.name
            if child.is_dir(follow_symlinks=False):
                if recursive:
                    stack.append(rel)
                else:
                    listing.n_excluded += 1
                continue
            if not _name_ok(child.name, path_glob):
                listing.n_excluded += 1
                continue
            listing.entries.append(_classify(root, root_b, rel, real_root, follow_outside))
    return listing


def _entry(root: str, rel: bytes, size: int, mtime_ns: int, reason: Reason | None = None,
           message: str = "") -> Entry:
    text = rel.decode("utf-8", "backslashreplace")
    location = root.rstrip("/") + "/" + text if text else root
    return Entry(location, size, mtime_ns, reason, message, rel)


def _within(path: bytes, real_root: bytes) -> bool:
    return path == real_root or path.startswith(real_root.rstrip(b"/") + b"/")


def _classify(root: str, root_b: bytes, rel: bytes, real_root: bytes, follow_outside: bool) -> Entry:
    """One non-folder entry: a readable file, or the reason it is not ingested."""
    full = os.path.join(root_b, rel)
    try:
        lst = os.lstat(full)
    except OSError:
        return _entry(root, rel, 0, 0, Reason.UNREADABLE, "the entry cannot be inspected (it vanished, or its folder cannot be entered)")
    mtime = lst.st_mtime_ns
    try:
        rel.decode("utf-8")
    except UnicodeDecodeError:
        return _entry(root, rel, lst.st_size, mtime, Reason.UNDECODABLE_NAME,
                      "the file name is not valid UTF-8; rename it and run again")
    st = lst
    if stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(full)
        except OSError:
            return _entry(root, rel, 0, mtime, Reason.DANGLING_LINK, "a symbolic link whose target is missing")
        if not follow_outside and not _within(os.path.realpath(full), real_root):
            return _entry(root, rel, 0, mtime, Reason.LINK_OUTSIDE_ROOT,
                          "a symbolic link leading outside the input folder (not followed; "
                          "set ingest.follow_outside_links to read it)")
        if stat.S_ISDIR(st.st_mode):
            return _entry(root, rel, 0, mtime, Reason.LINK_TO_FOLDER,
                          "a symbolic link to a folder (not followed; give the folder itself)")
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        return _entry(root, rel, 0, mtime, Reason.NOT_REGULAR_FILE, f"the entry is {kind}")
    return _entry(root, rel, st.st_size, st.st_mtime_ns)


def _list_remote(root: str, recursive: bool, path_glob: str) -> Listing:
    fs, inner = zones.arrow_fs(root)
    info = fs.get_file_info(inner)
    if info.type == pafs.FileType.NotFound:
        raise ConfigError("the input (export) location does not exist")
    listing = Listing(root)
    if info.type == pafs.FileType.File:
        listing.root = root.rsplit("/", 1)[0]
        infos = [info]
        inner = inner.rsplit("/", 1)[0]
    else:
        infos = fs.get_file_info(pafs.FileSelector(inner, recursive=recursive))
    for fi in sorted(infos, key=lambda f: f.path):
        if fi.type == pafs.FileType.Directory:
            continue
        if not _name_ok(fi.base_name.encode(), path_glob):
            listing.n_excluded += 1
            continue
        rel = fi.path[len(inner.rstrip("/")) + 1:].encode()
        mtime = fi.mtime_ns or 0
        if fi.type != pafs.FileType.File:
            listing.entries.append(_entry(listing.root, rel, 0, mtime, Reason.NOT_REGULAR_FILE,
                                          "the entry is not a regular object"))
        else:
            listing.entries.append(_entry(listing.root, rel, fi.size or 0, mtime))
    return listing


@dataclass(frozen=True)
class EntryReader:
    """Opens listed files literally by their location (picklable: shipped to executors)."""

    root: str

    def _rel(self, location: str) -> str:
        prefix = self.root.rstrip("/") + "/"
        if not location.startswith(prefix):
            raise ValueError("the location is not under the listed root")
        return location[len(prefix):]

    def open(self, location: str) -> IO[bytes]:
        """A binary stream of one listed file (no globbing, no URI parsing of its name)."""
        rel = self._rel(location)
        if zones.is_local(self.root):
            base = self.root if not self.root.startswith(("file:", "dbfs:")) else str(zones.local_path(self.root))
            # O_NOFOLLOW is not used: links inside the root were checked at listing
            fd = os.open(os.path.join(base, rel), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by a FIFO since the listing
                os.close(fd)
                raise OSError("not a regular file")
            return os.fdopen(fd, "rb")
        fs, inner = zones.arrow_fs(self.root)
        return fs.open_input_stream(inner.rstrip("/") + "/" + rel)  # type: ignore[return-value]

    def read(self, location: str) -> bytes:
        """The whole file; an OS error is ``InputError(UNREADABLE)`` (a quarantine row)."""
        try:
            with self.open(location) as fh:
                return bytes(fh.read())
        except OSError as exc:
            raise InputError(Reason.UNREADABLE, f"the file cannot be read ({exc.__class__.__name__})") from None

    def iter_chunks(self, location: str, chunk: int) -> Iterator[bytes]:
        try:
            with self.open(location) as fh:
                while data := fh.read(chunk):
                    yield bytes(data)
        except OSError as exc:
            raise InputError(Reason.UNREADABLE, f"the file cannot be read ({exc.__class__.__name__})") from None
