"""What the pipeline's tasks on the executors share: the per-input error boundary, the per-worker
cache and the keyed-digest step.

* :func:`each_input` is the only place where an unexpected error of one input is caught: it becomes
  an INTERNAL_ERROR whose message is the exception class name (never its text, which could carry
  PHI). Only ``Exception`` is caught: an injected fault (a ``BaseException``) still kills the run.
* :func:`per_worker` keeps one object per key in each Python worker (engines, models), built once
  under a lock and reused by every batch and task that worker runs.
* :func:`source_digest` / :func:`with_digests`: the keyed digest of an input's sha256 that marks it
  done in the metadata table without revealing it.

This module sits low in the layer order (``deid/__init__.py``), so the pixel stage, the quality gate
and the report use it too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from deid.dicomio import quiet_values
from deid.errors import InputError, Reason
from deid.keys import KeyRing, Purpose

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

T = TypeVar("T")

_WORKER: dict[Hashable, Any] = {}
_WORKER_LOCK = threading.RLock()  # re-entrant: a factory may ask for another cached object
DIGEST_SCHEMA = "sha256 string, source_digest string"


def per_worker(key: Hashable, make: Callable[[], T]) -> T:
    """The object cached under ``key`` in this Python worker, made by ``make()`` the first time."""
    with _WORKER_LOCK:
        if key not in _WORKER:
            _WORKER[key] = make()
        return _WORKER[key]  # type: ignore[no-any-return]


def message(err: InputError) -> str:
    """An input error's message without its ``REASON: `` prefix (the reason is stored beside it)."""
    prefix = f"{err.reason.value}: "
    return err.message[len(prefix):] if err.message.startswith(prefix) else err.message


@dataclass(frozen=True)
class Failed:
    """Why one input failed: a reason code and a PHI-free message (for its quarantine row)."""

    reason: Reason
    message: str


def each_input(work: Callable[[], T]) -> T | Failed:
    """The per-input error boundary: ``work()``'s value, or :class:`Failed` when it raises.

    pydicom's value validation is quiet inside (its warnings would quote values).
    """
    try:
        with quiet_values():
            return work()
    except InputError as err:
        return Failed(err.reason, message(err))
    except Exception as exc:  # noqa: BLE001 - the per-input boundary
        return Failed(Reason.INTERNAL_ERROR, exc.__class__.__name__)


def source_digest(keyring: KeyRing, sha256: str) -> str:
    """Keyed digest of an input's sha256: marks it done in the metadata without revealing it."""
    return keyring.mac(Purpose.CROSSWALK_HASH, b"source\x00" + sha256.encode()).hex()


def _digest_batches(batches: Iterator[pd.DataFrame], keyring: KeyRing) -> Iterator[pd.DataFrame]:
    for batch in batches:
        yield pd.DataFrame({"sha256": batch["sha256"],
                            "source_digest": [source_digest(keyring, s) for s in batch["sha256"]]})


def with_digests(sha256s: DataFrame, keyring: KeyRing) -> DataFrame:
    """``(sha256)`` rows -> ``(sha256, source_digest)`` (computed on the executors; the key travels
    in the task closure like the processor's)."""
    return sha256s.select("sha256").mapInPandas(partial(_digest_batches, keyring=keyring), DIGEST_SCHEMA)
