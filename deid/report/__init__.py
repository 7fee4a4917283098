"""The run report: ``<output>/reports/<run_id>/index.html`` (de-identified zone, no PHI) and, with the
key, before/after pairs in the PHI zone (``<raw>/reports/<run_id>/before_after.html``).

    path = build_report(spark, zones, run_id)            # or a deid.tables.Tables
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deid import zones as zones_mod
from deid.dicomio import quiet_values
from deid.keys import KeyRing

if TYPE_CHECKING:
    from deid.tables import Tables

__all__ = ["build_report"]


def _tables(spark_or_tables: Any) -> Tables:
    from deid.tables import Tables

    return spark_or_tables if isinstance(spark_or_tables, Tables) else Tables(spark_or_tables)


def build_report(spark_or_tables: Any, zones: zones_mod.Zones, run_id: str, *, keyring: KeyRing | None = None,
                 max_thumbs: int = 24) -> str:
    """Write the run's report and return the location of ``index.html``.

    With ``keyring`` the PHI-zone before/after page is written too (its location is listed, as a path
    only, in the de-identified report).
    """
    from deid.report.data import gather
    from deid.report.html import render_index
    from deid.report.thumbs import thumbnail

    tables = _tables(spark_or_tables)
    data = gather(tables, zones, run_id, max_thumbs)
    with quiet_values():  # pydicom's warnings would quote values
        thumbs = [(t.sop_instance_uid, thumbnail(zones_mod.join(zones.output, t.output_path), t.boxes),
                   len(t.boxes)) for t in data.thumbs]
        phi = None
        if keyring is not None and data.thumbs:
            from deid.report.phi import write_before_after

            phi = write_before_after(tables, zones, keyring, run_id, data.thumbs)
    loc = zones_mod.join(zones.report_dir(run_id), "index.html")
    zones_mod.write_bytes(loc, render_index(data, thumbs, phi).encode("utf-8"))
    return loc
