"""Where quality results live (de-identified zone) and how they are written.

* Delta table ``<output>/tables/quality_results``: one row per expectation per run
  (:data:`deid.quality.results.QUALITY_RESULTS`), appended once per run (idempotent app id).
* ``<output>/reports/<run_id>/quality.json`` and ``quality.html``: the same results, value-free.
"""

from __future__ import annotations

import json
from typing import Any

from deid import zones


def results_location(zs: zones.Zones) -> str:
    return zones.join(zs.output, "tables", "quality_results")


def report_dir(output: str, run_id: str) -> str:
    """``<zone>/reports/<run_id>``: run ids are timestamps and random hex, never PHI."""
    return zones.join(output, "reports", run_id)


def write_bytes(location: str, data: bytes) -> None:
    fs, path = zones.arrow_fs(location)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as fh:
        fh.write(data)


def read_text(location: str) -> str | None:
    fs, path = zones.arrow_fs(location)
    if fs.get_file_info(path).type.name != "File":
        return None
    with fs.open_input_stream(path) as fh:
        return bytes(fh.read()).decode("utf-8")


def write_json(location: str, doc: dict[str, Any]) -> None:
    write_bytes(location, json.dumps(doc, indent=1, sort_keys=True, default=str).encode("utf-8"))
