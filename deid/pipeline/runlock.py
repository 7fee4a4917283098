"""One run at a time, one key per output, PHI zones closed, staging of dead runs cleaned.

:class:`RunGuard` wraps every pipeline run (``deid run``, the ingest and de-identify jobs):

1. **Run lock.** A lock file ``_deid_run.lock`` is created atomically (``O_CREAT | O_EXCL``) in the
   de-identified output and in the PHI zone (two outputs sharing one PHI zone are serialised too). It
   holds the owner's run id, pid, host and an expiry renewed by a heartbeat thread. A second run is
   refused with :class:`deid.errors.RunLockedError`. A lock whose owner is dead (same host, pid gone)
   or whose expiry passed is taken over (the takeover itself is serialised by an ``O_EXCL`` file).
   On object stores (no exclusive create in ``pyarrow.fs``) the lock is check-then-write with a
   read-back: serialise cluster jobs in the scheduler as well (one concurrent run per job).
2. **One key per output.** ``_deid_output.json`` in the output records the key version of the first
   de-identifying run; a run with another key is refused (:class:`deid.errors.KeyVersionError`)
   with the way to rotate (README, "Rotating the key").
3. **Closed zones.** The PHI zone and the crosswalk zone are created 0700; at the end of the run
   every folder below them is 0700 and every file 0600 (like the crosswalk zone).
4. **Staging of dead runs.** Holding the PHI zone's lock, every ``_staging/<run_id>`` of another run
   belongs to a dead run and is removed.

No message carries a location (an export path may carry a name): zones are named, not shown.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType

from deid import zones
from deid.errors import KeyVersionError, RunLockedError

LOCK_NAME = "_deid_run.lock"
MARKER_NAME = "_deid_output.json"
DEFAULT_TTL_S = 30 * 60.0
_TAKEOVER_GRACE_S = 60.0


def _now() -> float:
    return time.time()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class LockInfo:
    run_id: str
    pid: int
    host: str
    started_at: float
    expires_at: float
    token: str

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()

    @classmethod
    def parse(cls, data: bytes) -> LockInfo | None:
        try:
            d = json.loads(data.decode())
            return cls(str(d["run_id"]), int(d["pid"]), str(d["host"]), float(d["started_at"]),
                       float(d["expires_at"]), str(d["token"]))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None

    def stale(self, now: float) -> bool:
        """Expired, or its process is gone (same host only: other hosts' pids are unknowable)."""
        return now > self.expires_at or (self.host == socket.gethostname() and not pid_alive(self.pid))


class _Store:
    """Tiny file operations on a zone (local: atomic; object stores: best effort)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.local = zones.is_local(location)

    def _path(self, name: str) -> str:
        return str(zones.local_path(zones.join(self.location, name))) if self.local else zones.join(self.location, name)

    def create_exclusive(self, name: str, data: bytes) -> bool:
        if self.local:
            try:
                fd = os.open(self._path(name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            return True
        if self.read(name) is not None:
            return False
        self.replace(name, data)
        time.sleep(0.5)
        return self.read(name) == data  # read back: the last writer of a race wins, the others see it

    def replace(self, name: str, data: bytes) -> None:
        if self.local:
            tmp = self._path(f".{name}.{uuid.uuid4().hex}")
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._path(name))
            return
        fs, inner = zones.arrow_fs(self._path(name))
        with fs.open_output_stream(inner) as out:
            out.write(data)

    def read(self, name: str) -> bytes | None:
        try:
            if self.local:
                with open(self._path(name), "rb") as fh:
                    return fh.read()
            fs, inner = zones.arrow_fs(self._path(name))
            with fs.open_input_stream(inner) as src:
                return bytes(src.read())
        except (FileNotFoundError, OSError):
            return None

    def age_s(self, name: str) -> float:
        try:
            return _now() - os.stat(self._path(name)).st_mtime if self.local else 0.0
        except OSError:
            return 0.0

    def remove(self, name: str) -> None:
        try:
            if self.local:
                os.remove(self._path(name))
            else:
                fs, inner = zones.arrow_fs(self._path(name))
                fs.delete_file(inner)
        except (FileNotFoundError, OSError):
            pass


@dataclass
class RunLock:
    """The exclusive run lock of one zone (see the module docstring)."""

    location: str
    zone: str  # "output" / "PHI zone": named in messages instead of the location
    run_id: str
    ttl_s: float = DEFAULT_TTL_S
    _info: LockInfo | None = field(default=None, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def _new_info(self) -> LockInfo:
        now = _now()
        return LockInfo(self.run_id, os.getpid(), socket.gethostname(), now, now + self.ttl_s, uuid.uuid4().hex)

    def acquire(self) -> None:
        if zones.is_local(self.location):
            zones.local_path(self.location).mkdir(parents=True, exist_ok=True)
        store = _Store(self.location)
        info = self._new_info()
        if not store.create_exclusive(LOCK_NAME, info.to_json()):
            holder = LockInfo.parse(store.read(LOCK_NAME) or b"")
            if holder is not None and not holder.stale(_now()):
                raise self._refusal(holder)
            if holder is None and store.age_s(LOCK_NAME) < self.ttl_s:
                raise RunLockedError(f"the {self.zone} holds a run lock ({LOCK_NAME}) that cannot be read; "
                                     "if no run is active, remove that file and run again")
            self._take_over(store, holder, info)
        self._info = info
        self._thread = threading.Thread(target=self._heartbeat, name="deid-runlock", daemon=True)
        self._thread.start()

    def _refusal(self, holder: LockInfo) -> RunLockedError:
        return RunLockedError(
            f"another run ({holder.run_id}, pid {holder.pid} on host {holder.host}, started "
            f"{_iso(holder.started_at)}) is writing this {self.zone}; only one run at a time is allowed. "
            f"Wait for it to finish; if it died, its lock is taken over automatically once its process "
            f"is gone (same host) or after {_iso(holder.expires_at)}")

    def _take_over(self, store: _Store, holder: LockInfo | None, info: LockInfo) -> None:
        """Replace a stale lock; concurrent takers are serialised by an exclusive takeover file."""
        takeover = LOCK_NAME + ".takeover"
        if not store.create_exclusive(takeover, info.to_json()):
            if store.age_s(takeover) < _TAKEOVER_GRACE_S:
                raise RunLockedError(f"another run is taking over the stale run lock of this {self.zone}; "
                                     "run again in a minute")
            store.remove(takeover)
            if not store.create_exclusive(takeover, info.to_json()):
                raise RunLockedError(f"another run is taking over the stale run lock of this {self.zone}")
        try:
            current = LockInfo.parse(store.read(LOCK_NAME) or b"")
            if current is not None and current != holder and not current.stale(_now()):
                raise self._refusal(current)
            store.replace(LOCK_NAME, info.to_json())
        finally:
            store.remove(takeover)

    def _heartbeat(self) -> None:
        store = _Store(self.location)
        while not self._stop.wait(self.ttl_s / 3):
            if self._info is None:
                return
            held = LockInfo.parse(store.read(LOCK_NAME) or b"")
            if held is None or held.token != self._info.token:
                return  # taken over (we were considered dead): do not fight over it
            self._info = LockInfo(**{**self._info.__dict__, "expires_at": _now() + self.ttl_s})
            store.replace(LOCK_NAME, self._info.to_json())

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        store = _Store(self.location)
        held = LockInfo.parse(store.read(LOCK_NAME) or b"")
        if self._info is not None and held is not None and held.token == self._info.token:
            store.remove(LOCK_NAME)
        self._info = None


def output_key_version(output: str) -> str | None:
    """The key version recorded in the output (``_deid_output.json``), or None for a new output."""
    data = _Store(output).read(MARKER_NAME)
    if not data:
        return None
    try:
        return str(json.loads(data.decode())["key_version"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def check_key_version(output: str, key_version: str, run_id: str) -> None:
    """Refuse a key other than the output's; record it on a new output."""
    recorded = output_key_version(output)
    if recorded is None:
        record = {"key_version": key_version, "first_run_id": run_id, "created_at": _iso(_now())}
        _Store(output).replace(MARKER_NAME, json.dumps(record, sort_keys=True).encode())
        return
    if recorded != key_version:
        raise KeyVersionError(
            f"this output was written with key version {recorded}; the key given has version "
            f"{key_version}. One output holds one key: give the key it was written with, or, to rotate "
            "the key, de-identify into a new output (README, section 'Rotating the key')")


def clean_dead_staging(raw: str, run_id: str) -> int:
    """Remove ``<raw>/_staging/<other run>``: with the PHI zone's lock held, those runs are dead."""
    import pyarrow.fs as pafs

    fs, inner = zones.arrow_fs(zones.join(raw, "_staging"))
    if fs.get_file_info(inner).type != pafs.FileType.Directory:
        return 0
    removed = 0
    for info in fs.get_file_info(pafs.FileSelector(inner, recursive=False)):
        if info.base_name == run_id:
            continue
        if info.type == pafs.FileType.Directory:
            fs.delete_dir(info.path)
        else:
            fs.delete_file(info.path)
        removed += 1
    return removed


class RunGuard:
    """Context manager of one run: locks (output, then PHI zone), key check, closed zones, cleanup."""

    def __init__(self, zs: zones.Zones, run_id: str, *, key_version: str | None,
                 ttl_s: float = DEFAULT_TTL_S) -> None:
        self.zs = zs
        self.run_id = run_id
        self.key_version = key_version
        self.locks = [RunLock(zs.output, "output", run_id, ttl_s), RunLock(zs.raw, "PHI zone", run_id, ttl_s)]
        self.n_staging_removed = 0

    def __enter__(self) -> RunGuard:
        zones.make_private_dir(self.zs.raw)
        zones.make_private_dir(self.zs.crosswalk)
        held: list[RunLock] = []
        try:
            for lock in self.locks:
                lock.acquire()
                held.append(lock)
            if self.key_version is not None:
                check_key_version(self.zs.output, self.key_version, self.run_id)
            self.n_staging_removed = clean_dead_staging(self.zs.raw, self.run_id)
        except BaseException:
            for lock in reversed(held):
                lock.release()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            zones.secure_local_tree(self.zs.raw)
            zones.secure_local_tree(self.zs.crosswalk)
        finally:
            for lock in reversed(self.locks):
                lock.release()
