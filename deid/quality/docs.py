"""The data-docs equivalent: one self-contained HTML page with the suites and a run's results.

Every string shown comes from the suite files or is a count; all of it is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from deid.quality.suites import Suite

if TYPE_CHECKING:
    from deid.quality.results import GateReport

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ccd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f6}.ok{color:#17663a;font-weight:600}.bad{color:#a11;font-weight:600}
.warn{color:#9a6200;font-weight:600}code{font-size:12px}.muted{color:#667}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def status_cell(success: bool, severity: str) -> str:
    if success:
        return '<td class="ok">passed</td>'
    return f'<td class="{"bad" if severity == "critical" else "warn"}">failed</td>'


def suites_html(suites: list[Suite]) -> str:
    parts = []
    for suite in suites:
        rows = "".join(
            f"<tr><td>{esc(e.name)}</td><td><code>{esc(e.type)}</code></td>"
            f"<td><code>{esc(json.dumps(e.kwargs, default=str, sort_keys=True))}</code></td>"
            f"<td>{esc(e.severity.value)}</td></tr>" for e in suite.expectations)
        parts.append(f"<h3>{esc(suite.table)}</h3><table><tr><th>expectation</th><th>type</th>"
                     f"<th>arguments</th><th>severity</th></tr>{rows}</table>")
    return "".join(parts)


def results_html(report: GateReport) -> str:
    rows = "".join(
        f"<tr><td>{esc(r.table_name)}</td><td>{esc(r.expectation)}</td><td>{esc(r.severity)}</td>"
        f"{status_cell(r.success, r.severity)}<td>{esc(r.unexpected_count)}</td>"
        f"<td>{esc(r.element_count)}</td><td>{esc(r.observed)}</td></tr>" for r in report.results)
    return ("<table><tr><th>table</th><th>expectation</th><th>severity</th><th>result</th>"
            f"<th>unexpected</th><th>checked</th><th>observed</th></tr>{rows}</table>")


def findings_html(report: GateReport) -> str:
    v = report.verification
    if v is None:
        return "<p class='muted'>verification pass disabled</p>"
    head = (f"<p>{v.n_instances} instances re-read, {v.n_values} values compared; {v.n_ocr_instances} "
            f"instances OCR'd again, {v.n_ocr_lines} text lines checked; {v.n_findings} findings.</p>")
    if not v.findings:
        return head
    rows = "".join(f"<tr><td>{esc(f['sop_instance_uid'])}</td><td>{esc(f['check'])}</td>"
                   f"<td>{esc(f['location'])}</td><td>{esc(f['kind'])}</td></tr>" for f in v.findings)
    return head + ("<table><tr><th>instance (new SOP Instance UID)</th><th>check</th><th>where</th>"
                   f"<th>matched</th></tr>{rows}</table>")


def render_quality_html(suites: list[Suite], report: GateReport) -> str:
    verdict = ('<span class="ok">passed: released</span>' if report.passed
               else '<span class="bad">failed: not released</span>')
    failures = "".join(f"<li>{esc(m)}</li>" for m in report.failures)
    warnings = "".join(f"<li>{esc(m)}</li>" for m in report.warnings)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Quality gate {esc(report.run_id)}"
            f"</title><style>{STYLE}</style></head><body><h1>Quality gate, run {esc(report.run_id)}</h1>"
            f"<p>{verdict} <span class='muted'>checked {esc(report.checked_at)}</span></p>"
            + (f"<h2>Critical failures</h2><ul>{failures}</ul>" if failures else "")
            + (f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else "")
            + f"<h2>Results</h2>{results_html(report)}<h2>Verification pass</h2>{findings_html(report)}"
            f"<h2>Suites</h2>{suites_html(suites)}</body></html>")
