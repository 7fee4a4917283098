"""Byte identity of the header engine's outputs across code versions (issue #11, engine speed work).

    python benchmarks/bench_engine_hashes.py dump EXPORT_DIR OUT.json [--n 300] [--profiles basic,research]
    python benchmarks/bench_engine_hashes.py compare A.json B.json

``dump`` de-identifies every file of ``deid.samples.reachable_files()`` (the real corpus, broken files
included) and the first ``--n`` files of EXPORT_DIR (e.g. ``scripts/make_export.py 300 DIR --seed
9303``) under the research and hipaa-safe-harbor profiles (model detector, free text batched 100
files at a time, as the pipeline does), and writes per (profile, file) the sha256 of the written file
and of its sealed crosswalk records, or the rejection reason. Run it once with each checkout on
``PYTHONPATH``; ``compare`` lists the keys whose outputs differ (keys name inputs by their sha256,
never by a name or value).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

PROFILES = ("research", "hipaa-safe-harbor")


def dump(export: Path, n: int, out_path: Path, profiles: tuple[str, ...] = PROFILES) -> None:
    warnings.simplefilter("ignore")
    os.environ.setdefault("DEID_KEY", "5f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f60718293a4b5c6d7e")
    if os.environ.get("DEID_ENCODER", "").strip().lower() == "torch":  # the numpy encoder: OMP_NUM_THREADS
        import torch

        torch.set_num_threads(1)
    from deid import samples
    from deid.dicomio import read_dicom, write_dicom
    from deid.errors import InputError
    from deid.header.engine import HeaderEngine, PixelStatus
    from deid.header.profile import load_profile
    from deid.keys import load_keyring

    # the shared folder beside THIS checkout, whichever checkout's deid is imported (the same inputs)
    samples.SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom"
    sets = {"real": samples.reachable_files(), "export": sorted(export.rglob("*.dcm"))[:n]}
    out: dict[str, str] = {}
    for prof in profiles:
        engine = HeaderEngine(load_profile(prof), load_keyring())
        for set_name, files in sets.items():
            for start in range(0, len(files), 100):
                chunk = files[start:start + 100]
                batch = engine.free_text_batch()
                results: list[object] = []
                keys: list[str] = []
                for f in chunk:
                    data = f.read_bytes()
                    keys.append(hashlib.sha256(data).hexdigest()[:16])
                    try:
                        results.append(engine.deidentify(read_dicom(data), batch=batch))
                    except InputError as exc:
                        results.append(exc.reason.value)
                engine.finish(batch)
                for i, r in enumerate(results):
                    key = f"{prof}:{set_name}:{keys[i]}"  # the input's digest, never its name
                    if isinstance(r, str):
                        out[key] = r
                        continue
                    try:
                        r.check()  # type: ignore[attr-defined]
                        engine.finalize(r.dataset, PixelStatus.UNVERIFIED)  # type: ignore[attr-defined]
                        out[key] = hashlib.sha256(write_dicom(r.dataset)).hexdigest()  # type: ignore[attr-defined]
                        out[key + ":crosswalk"] = _crosswalk_digest(r)
                    except InputError as exc:
                        out[key] = exc.reason.value
    out_path.write_text(json.dumps(out, indent=0, sort_keys=True))
    print(f"{len(out)} outputs ({', '.join(f'{k} {len(v)}' for k, v in sets.items())} files x {len(profiles)} profiles)")


def _crosswalk_digest(result: object) -> str:
    """One digest of the instance's sealed crosswalk records (kind, pseudonym, keyed hash, ciphertext)."""
    digest = hashlib.sha256()
    for rec in sorted(result.crosswalk, key=lambda r: (r.kind, r.original_hash)):  # type: ignore[attr-defined]
        digest.update(f"{rec.kind}|{rec.pseudonym}|{rec.original_hash}|{rec.original_enc.hex()}|".encode())
    return digest.hexdigest()


def compare(a: Path, b: Path) -> int:
    x, y = json.loads(a.read_text()), json.loads(b.read_text())
    differ = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
    for k in differ:
        print("DIFFERS", k, x.get(k, "-")[:16], y.get(k, "-")[:16])
    print(f"{len(x)} vs {len(y)} outputs, {len(differ)} differ")
    return 1 if differ else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("export", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--n", type=int, default=300)
    d.add_argument("--profiles", default=",".join(PROFILES), help="comma-separated profile names")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.export, args.n, args.out, tuple(p for p in args.profiles.split(",") if p))
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
