"""Fault injection for recovery tests: make one run die at a chosen point, once.

``DEID_FAULT_INJECT`` is read on the driver and handed to the tasks as a plain string:
``<point>:<marker file>`` or ``<point>:<marker file>:<sha256 prefix>``. The fault fires the first time
only (it creates the marker file); points are ``udf`` (inside the de-identify UDF, for the input whose
sha256 starts with the prefix) and ``publish`` (after the first DICOM file was moved to the output).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_VAR = "DEID_FAULT_INJECT"


class InjectedFault(BaseException):
    """Deliberately not an Exception: no per-input boundary may swallow it; the run must die."""


@dataclass(frozen=True)
class FaultSpec:
    point: str
    marker: str
    sha_prefix: str = ""

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec | None:
        if not text:
            return None
        parts = text.split(":")
        if len(parts) < 2:
            return None
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")


def from_env() -> str | None:
    return os.environ.get(ENV_VAR) or None


def maybe_fail(spec_text: str | None, point: str, sha256: str | None = None) -> None:
    spec = FaultSpec.parse(spec_text)
    if spec is None or spec.point != point:
        return
    if spec.sha_prefix and not (sha256 or "").startswith(spec.sha_prefix):
        return
    try:
        fd = os.open(spec.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    raise InjectedFault(f"injected fault at {point}")
