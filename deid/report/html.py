"""The run report page (de-identified zone): counts, gate results, throughput, thumbnails, links.

Only aggregates, reason codes, expectation names, pseudonymous identifiers (new UIDs), de-identified
frames and locations appear; every string is HTML-escaped.
"""

from __future__ import annotations

from typing import Any

from deid.quality.docs import STYLE, esc
from deid.report.data import ReportData

_EXTRA_STYLE = """
.grid{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ccd;padding:6px;width:232px;font-size:11px}
.card img{display:block;max-width:224px;max-height:224px;background:#000}.uid{word-break:break-all}
.kpi{display:inline-block;border:1px solid #ccd;padding:8px 14px;margin:4px;font-size:14px}
.kpi b{display:block;font-size:22px}
"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: float | None, unit: str = "") -> str:
    return "" if v is None else f"{v:.2f}{unit}"


def gate_section(data: ReportData) -> str:
    gate = data.gate
    if gate is None and not data.quality:
        return "<p class='muted'>no quality gate results for this run</p>"
    verdict = ""
    if gate is not None:
        verdict = ('<p class="ok">quality gate passed: released</p>' if gate.get("passed")
                   else '<p class="bad">quality gate failed: not released</p>')
        verdict += "".join(f"<p class='bad'>{esc(m)}</p>" for m in gate.get("failures", []))
        verdict += "".join(f"<p class='warn'>{esc(m)}</p>" for m in gate.get("warnings", []))
    rows = [[r["table_name"], r["expectation"], r["severity"], "passed" if r["success"] else "FAILED",
             r["unexpected_count"], r["observed"]] for r in (data.quality or (gate or {}).get("results", []))]
    return (verdict + _table(["table", "expectation", "severity", "result", "unexpected", "observed"], rows)
            + "<p><a href='quality.html'>quality suites and verification details</a></p>")


def thumbs_section(items: list[tuple[str, str | None, int]]) -> str:
    if not items:
        return "<p class='muted'>no published instances with pixel data</p>"
    cards = []
    for uid, uri, n_boxes in items:
        img = f"<img src='{uri}' alt='frame 0'>" if uri else "<p class='muted'>frame not readable</p>"
        cards.append(f"<div class='card'>{img}<div class='uid'>{esc(uid)}</div>"
                     f"<div>{n_boxes} boxes outlined on frame 0</div></div>")
    return ("<p class='muted'>Frame 0 of de-identified instances; red: redacted boxes, amber: kept text "
            "(from the redactions table).</p><div class='grid'>" + "".join(cards) + "</div>")


def timings_section(data: ReportData) -> str:
    t = data.timings
    if not t:
        return "<p class='muted'>no stage timings recorded for this run</p>"
    stages = t.get("stages") or {}
    rows = [[k, _fmt(float(v), " s")] for k, v in stages.items()]
    log = t.get("spark_event_log")
    where = (f"<p>Spark event log (open it in Spark's history server): <code>{esc(log)}</code></p>" if log
             else "<p class='muted'>Spark event log off (spark.eventLog.enabled)</p>")
    return (_table(["stage", "seconds"], rows) + f"<p>run total {_fmt(t.get('total_s'), ' s')} for "
            f"{esc(t.get('n_inputs'))} inputs</p>" + where)


def render_index(data: ReportData, thumbs: list[tuple[str, str | None, int]], phi_report: str | None) -> str:
    kpis = "".join(f"<span class='kpi'><b>{v}</b>{esc(k)}</span>" for k, v in data.outcomes.items())
    stages = [[s.stage, s.status, s.started_at, s.finished_at, _fmt(s.seconds, " s"), s.n_inputs, s.n_done,
               s.n_quarantined, s.n_skipped, _fmt(s.files_per_second)] for s in data.stages]
    reasons = [[k, v] for k, v in sorted(data.quarantine_reasons.items())]
    phi = (f"<li>before/after pairs (PHI zone, operators only): <code>{esc(phi_report)}</code></li>"
           if phi_report else "")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>deid run {esc(data.run_id)}</title>"
        f"<style>{STYLE}{_EXTRA_STYLE}</style></head><body><h1>De-identification run {esc(data.run_id)}</h1>"
        f"<h2>Outcomes</h2>{kpis}"
        "<h2>Quarantine by reason</h2>"
        + (_table(["reason code", "files"], reasons) if reasons else "<p class='muted'>nothing quarantined</p>")
        + "<h2>Burned-in text status</h2>" + _table(["status", "instances"], [[k, v] for k, v in sorted(data.burned_in.items())])
        + "<h2>Modalities</h2>" + _table(["modality", "instances"], [[k, v] for k, v in sorted(data.modalities.items())])
        + "<h2>Quality gate</h2>" + gate_section(data)
        + "<h2>Throughput by stage</h2>"
        + _table(["stage", "status", "started", "finished", "duration", "inputs", "done", "quarantined",
                  "skipped", "files/s"], stages)
        + "<h2>Time by stage</h2>" + timings_section(data)
        + "<h2>Redacted frames</h2>" + thumbs_section(thumbs)
        + "<h2>For the PHI-zone operator</h2><ul>"
        f"<li>review table (boxes in the review band): <code>{esc(data.review_location)}</code></li>{phi}</ul>"
        "</body></html>")
