"""Header de-identification throughput, files per second on one core, side by side in one run:
deid-pipeline (this project, research profile: full Table E.1-1, options, every depth) vs
pydicom/deid (its default recipe) and dicognito (its default anonymizer).

Usage: python benchmarks/bench_header.py [--min-files 300]
The competitors run in benchmarks/.env-header (created on first use: pip install deid dicognito).
Each tool runs single-threaded in its own process (taskset to one CPU where available).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = HERE / ".env-header"


def competitor_python() -> str:
    py = ENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "deid==0.4.13", "dicognito==0.19.0",
                        "pydicom==3.0.2"], check=True)
    return str(py)


def corpus() -> list[str]:
    """Real headers that every tool can read: installed samples (+ ../shared when present)."""
    from deid.dicomio import read_dicom
    from deid.errors import InputError
    from deid.samples import deid_data_files, pydicom_files, shared_files

    good = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in pydicom_files() + deid_data_files() + shared_files():
            try:
                read_dicom(p.read_bytes())
            except InputError:
                continue
            good.append(str(p))
    return good


def run_tool(python: str, tool: str, listfile: str, mode: str = "time"):  # type: ignore[no-untyped-def]
    cmd = [python, str(HERE / "_header_worker.py"), mode, tool, listfile]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    return json.loads(res.stdout.strip().splitlines()[-1])


def _write_list(files: list[str]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(files))
        return fh.name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-files", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("DEID_KEY", "5f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f60718293a4b5c6d7e")
    comp = competitor_python()
    files = sorted(set(corpus()))
    listfile = _write_list(files)
    common = set(files)
    for py, tool in ((sys.executable, "deid-pipeline"), (comp, "pydicom-deid"), (comp, "dicognito")):
        common &= set(run_tool(py, tool, listfile, "probe"))
    unique = sorted(common)
    print(f"{len(unique)} distinct real files that all three tools process")
    files = []
    while len(files) < args.min_files:
        files.extend(unique)
    listfile = _write_list(files)
    results = [run_tool(sys.executable, "deid-pipeline", listfile),
               run_tool(comp, "pydicom-deid", listfile),
               run_tool(comp, "dicognito", listfile)]
    ours = results[0]["files_per_s"]
    print(f"{'tool':<16}{'files':>7}{'files/s/core':>15}{'ours / tool':>13}")
    for r in results:
        print(f"{r['tool']:<16}{int(r['files']):>7}{r['files_per_s']:>15.1f}{ours / r['files_per_s']:>13.2f}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "header.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
