"""Header engine files per CPU-second vs plain pydicom read+write (and dicognito), side by side (issue #11).

    # one process, one code version (whatever ``deid`` is on PYTHONPATH):
    python benchmarks/bench_engine_cpu.py one SET [--profile research] [--dicognito DIR] [--cprofile N]
    # before/after alternating, one child process per round and code version:
    nice -n 10 python benchmarks/bench_engine_cpu.py compare BASE_CHECKOUT NEW_CHECKOUT SET... [--rounds 2]

SET is an export folder (``scripts/make_export.py 300 DIR --seed 9303``) or ``real``: the files of
``deid.samples.reachable_files()`` under 4 MiB that pydicom reads and writes and the engine accepts.
Each pass is timed in CPU seconds of the process (the best of ``--repeat`` passes, cold excepted) (``time.process_time``; torch at one thread, as a
Spark task with ``spark.task.cpus=1``): plain ``dcmread`` + ``save_as``, the engine cold (first pass:
the free-text scorer's figures empty), the engine warm (second pass: scorer figures kept, the cleaned
text cache emptied, as for a new export of known texts), plain again, and dicognito's default
anonymizer (read, anonymize, ``save_as``) when ``--dicognito`` names a folder holding the package.
The engine runs as the pipeline does: ``read_dicom``, ``deidentify`` with one free-text batch per 100
files, ``finish``, ``finalize``, ``write_dicom``; its phases are timed too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _files(spec: str) -> list[bytes]:
    if spec != "real":
        return [f.read_bytes() for f in sorted(Path(spec).rglob("*.dcm"))]
    import pydicom

    from deid import samples
    from deid.dicomio import read_dicom
    from deid.errors import InputError

    # the shared folder beside THIS checkout, whichever checkout's deid is imported (the same inputs)
    samples.SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom"
    blobs = []
    for f in samples.reachable_files():
        if f.stat().st_size >= 4 << 20:
            continue
        b = f.read_bytes()
        try:
            pydicom.dcmread(io.BytesIO(b)).save_as(io.BytesIO())
            read_dicom(b)
        except (InputError, Exception):  # noqa: BLE001 - a file either tool refuses is left out
            continue
        blobs.append(b)
    return blobs


def cpu_step(spent: dict[str, float]) -> Callable[..., Any]:
    """``step(label, fn, *a, **kw)``: calls ``fn`` and adds its CPU seconds to ``spent[label]``."""

    def step(label: str, fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*a, **kw)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - t0

    return step


def one(spec: str, profile: str, dicognito_dir: str | None, cprofile: int, repeat: int = 3) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", "5f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f60718293a4b5c6d7e")
    import torch

    torch.set_num_threads(1)
    import pydicom

    from deid.dicomio import read_dicom, write_dicom
    from deid.errors import InputError
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    blobs = _files(spec)
    engine = HeaderEngine(load_profile(profile), load_keyring())
    engine.scorer()  # loaded before timing (a worker loads it once)
    phases: dict[str, float] = {}
    timed = cpu_step(phases)

    def run_engine() -> None:
        if getattr(engine, "kept_memos", None) is not None:  # nor kept-value answers
            engine.kept_memos.clear()
        if getattr(engine, "clean_cache", None) is not None:
            from deid.header.clean import CleanCache

            engine.clean_cache = CleanCache()
        for start in range(0, len(blobs), 100):
            batch = engine.free_text_batch()
            results = []
            for b in blobs[start:start + 100]:
                with contextlib.suppress(InputError):
                    results.append(timed("deid", engine.deidentify, timed("read", read_dicom, b), batch=batch))
            timed("finish", engine.finish, batch)
            for r in results:
                try:
                    r.check()
                    timed("finalize", engine.finalize, r.dataset, PixelStatus.UNVERIFIED)
                    timed("write", write_dicom, r.dataset)
                except InputError:
                    pass

    def plain() -> None:
        for b in blobs:
            pydicom.dcmread(io.BytesIO(b)).save_as(io.BytesIO())

    passes: list[tuple[str, Callable[[], None]]] = [
        ("plain", plain), ("cold", run_engine), ("warm", run_engine), ("plain2", plain)]
    failed = 0
    if dicognito_dir:
        sys.path.insert(0, dicognito_dir)
        from dicognito.anonymizer import Anonymizer

        anonymizer = Anonymizer(seed="benchmark")

        def dicognito() -> None:
            nonlocal failed
            failed = 0
            for b in blobs:
                try:
                    ds = pydicom.dcmread(io.BytesIO(b), force=True)
                    anonymizer.anonymize(ds)
                    ds.save_as(io.BytesIO())
                except Exception:  # noqa: BLE001 - counted
                    failed += 1

        passes.append(("dicognito", dicognito))
    out: dict[str, Any] = {"files": len(blobs)}
    for name, fn in passes:
        best = float("inf")
        for _ in range(1 if name == "cold" else repeat):  # the best of ``repeat`` passes: the least disturbed
            phases.clear()
            t0 = time.process_time()
            fn()
            spent = time.process_time() - t0
            if spent < best:
                best = spent
                if name in ("cold", "warm"):
                    out[f"{name}_phases"] = {k: round(v, 3) for k, v in phases.items()}
        out[name] = len(blobs) / best
    if dicognito_dir:
        out["dicognito_failed"] = failed
    if cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        run_engine()
        prof.disable()
        if os.environ.get("BENCH_PSTATS"):
            prof.dump_stats(os.environ["BENCH_PSTATS"])  # for pstats / snakeviz
        stats = pstats.Stats(prof, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(cprofile)
        stats.sort_stats("cumulative").print_stats(cprofile)
    return out


def compare(base: str, new: str, sets: list[str], rounds: int, profile: str, dicognito_dir: str | None,
            repeat: int) -> None:
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for spec in sets:
        for r in range(rounds):
            for label, src in (("base", base), ("new", new)):
                cmd = [sys.executable, __file__, "one", spec, "--profile", profile, "--repeat", str(repeat)]
                if dicognito_dir and label == "new":  # dicognito's figure does not depend on our code
                    cmd += ["--dicognito", dicognito_dir]
                env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS="1")
                res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True,
                                                text=True).stdout.splitlines()[-1])
                rows.setdefault((spec, label), []).append(res)
                print(f"{spec} round {r + 1} {label}: " + json.dumps(res), flush=True)
    print("\nset | code | files | plain files/CPU-s | engine warm | warm % of plain | engine cold | dicognito | warm / dicognito")
    for (spec, label), res in rows.items():
        def mean(k: str, res: list[dict[str, Any]] = res) -> float:
            return sum(x[k] for x in res) / len(res)
        plain = (mean("plain") + mean("plain2")) / 2
        dics = [x["dicognito"] for (sp, _), rs in rows.items() if sp == spec for x in rs if "dicognito" in x]
        dic = sum(dics) / len(dics) if dics else float("nan")
        print(f"{Path(spec).name} | {label} | {res[0]['files']} | {plain:.1f} | {mean('warm'):.1f} | "
              f"{100 * mean('warm') / plain:.0f}% | {mean('cold'):.1f} | {dic:.1f} | {mean('warm') / dic:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("one")
    o.add_argument("set")
    o.add_argument("--profile", default="research")
    o.add_argument("--dicognito", default=None, help="folder holding the dicognito package")
    o.add_argument("--cprofile", type=int, default=0, help="profile one more warm pass, print N rows")
    o.add_argument("--repeat", type=int, default=3, help="passes of each kind but cold; the best one counts")
    c = sub.add_parser("compare")
    c.add_argument("base")
    c.add_argument("new")
    c.add_argument("sets", nargs="+")
    c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--profile", default="research")
    c.add_argument("--dicognito", default=None)
    c.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.cmd == "one":
        print(json.dumps(one(args.set, args.profile, args.dicognito, args.cprofile, args.repeat)))
    else:
        compare(args.base, args.new, args.sets, args.rounds, args.profile, args.dicognito, args.repeat)


if __name__ == "__main__":
    main()
