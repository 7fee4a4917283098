"""Before/after pairs for operators: written ONLY to the PHI zone (``<raw>/reports/<run_id>/``).

The original frame comes from the bronze table (PHI zone); the input is found by the keyed
``source_digest`` of the metadata row, so this needs the key.
"""

from __future__ import annotations

from deid import zones
from deid.keys import KeyRing
from deid.pipeline.executor import with_digests
from deid.quality.docs import STYLE, esc
from deid.report.data import Thumb
from deid.report.thumbs import frame_image, outline, png_data_uri, read_dataset
from deid.tables import BRONZE, Tables


def originals(tables: Tables, zs: zones.Zones, keyring: KeyRing, digests: list[str]) -> dict[str, bytes]:
    """source_digest -> the input's bytes (bronze, PHI zone) for the given digests."""
    from pyspark.sql import functions as F

    bronze = tables.read(zs.bronze, BRONZE)
    keys = with_digests(bronze.select("sha256").distinct(), keyring).where(F.col("source_digest").isin(digests))
    rows = (bronze.join(keys, "sha256", "inner").dropDuplicates(["sha256"])
            .select("source_digest", "content", "blob_path").collect())
    return {str(r["source_digest"]): bytes(r["content"]) if r["content"] is not None
            else zones.read_bytes(str(r["blob_path"])) for r in rows}


def write_before_after(tables: Tables, zs: zones.Zones, keyring: KeyRing, run_id: str,
                       thumbs: list[Thumb]) -> str:
    """Write ``<raw>/reports/<run_id>/before_after.html``; returns its location."""
    from deid.dicomio import read_dicom

    found = originals(tables, zs, keyring, [t.source_digest for t in thumbs if t.source_digest])
    cards = []
    for t in thumbs:
        before = after = None
        try:
            if t.source_digest in found:
                before = png_data_uri(outline(frame_image(read_dicom(found[t.source_digest])), t.boxes), 320)
            after = png_data_uri(outline(frame_image(read_dataset(zones.join(zs.output, t.output_path))),
                                         t.boxes), 320)
        except Exception:  # noqa: BLE001 - a pair that cannot be rendered is shown as missing
            pass
        imgs = "".join(f"<img src='{u}' alt='{a}'>" if u else f"<p>{a}: not readable</p>"
                       for u, a in ((before, "before"), (after, "after")))
        cards.append(f"<div class='pair'><div>{esc(t.sop_instance_uid)}</div>{imgs}</div>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>PHI: before/after {esc(run_id)}</title>"
            f"<style>{STYLE}.pair{{border:1px solid #ccd;margin:8px;padding:6px}}.pair img{{margin:4px}}"
            "</style></head><body><h1>PHI ZONE: before/after, run " + esc(run_id) + "</h1>"
            "<p class='bad'>Contains original pixel data. Keep in the PHI zone; do not copy out.</p>"
            + "".join(cards) + "</body></html>")
    loc = zones.join(zs.report_dir(run_id, phi=True), "before_after.html")
    zones.write_bytes(loc, page.encode("utf-8"))
    return loc
