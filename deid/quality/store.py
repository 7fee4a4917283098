"""Where quality results live (de-identified zone) and how they are written.

* Delta table ``<output>/tables/quality_results`` (:attr:`deid.zones.Zones.quality_results`): one row per
  expectation per run (:data:`deid.quality.results.QUALITY_RESULTS`), appended once per run.
* ``<output>/reports/<run_id>/quality.json`` and ``quality.html`` (:meth:`deid.zones.Zones.report_dir`):
  the same results, value-free.
"""

from __future__ import annotations

import json
from typing import Any

from deid import zones

GATE_JSON = "quality.json"
GATE_HTML = "quality.html"


def write_json(location: str, doc: dict[str, Any]) -> None:
    zones.write_bytes(location, json.dumps(doc, indent=1, sort_keys=True, default=str).encode("utf-8"))


def read_json(location: str) -> dict[str, Any] | None:
    """The document at ``location``, or None when there is none."""
    if not zones.is_file(location):
        return None
    doc = json.loads(zones.read_bytes(location).decode("utf-8"))
    return doc if isinstance(doc, dict) else None
