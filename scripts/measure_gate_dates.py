"""False alarms of the gate's header check as an export grows, without Spark.

    python scripts/measure_gate_dates.py N [--seed 7373] [--profile research] [--workdir DIR]

Makes an export of N instances (``scripts/make_export.py``: packaged real headers, invented patients
and studies), de-identifies every instance with the header engine under the profile, makes the run's
needles from the originals as the de-identify task does (:func:`deid.quality.verify.original_needles`,
merged by :func:`deid.quality.verify.merge_needles`), and checks every de-identified header
(:func:`deid.quality.verify.check_header`) twice: with each input's bronze key (dates in DA/DT
attributes compared with their own input's dates) and without it (every date of the run, as before
the eighth session). Prints, for each, the findings by needle kind and the instances with a finding,
then how many of the keyed findings :func:`deid.quality.verify.keyed_replacement` and
:func:`deid.quality.verify.own_value` excuse. No value is printed.

The headers hold no planted leak, so every finding is a false alarm (or a real engine defect, which
the printed tag paths would show). A key is drawn at random for each run unless ``--key-seed`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=7373)
    ap.add_argument("--profile", default="research")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--key-seed", type=int, default=None, help="derive the run key from this number (default: random)")
    args = ap.parse_args(argv)

    from deid.config import VerificationConfig
    from deid.dicomio import read_dicom
    from deid.header.engine import HeaderEngine
    from deid.header.profile import load_profile
    from deid.keys import KeyRing
    from deid.quality.originals import NeedleRules
    from deid.quality.verify import (
        VerifyParams,
        check_header,
        keyed_replacement,
        merge_needles,
        original_needles,
        own_keys,
        own_pseudonyms,
        own_value,
    )

    work = args.workdir or Path(tempfile.mkdtemp(prefix="gate-dates-"))
    export = work / "export"
    if not (export / "manifest.json").is_file():
        sys.path.insert(0, str(HERE))  # scripts/ is no package: its sibling script as a module
        from make_export import make_export

        make_export(export, args.n, seed=args.seed, burned_share=0.0)
    files = sorted(p for p in export.rglob("*.dcm"))
    keys = KeyRing(secrets.token_bytes(32) if args.key_seed is None
                   else hashlib.sha256(f"measure-gate-dates-{args.key_seed}".encode()).digest())
    profile = load_profile(args.profile)
    engine = HeaderEngine(profile, keys)
    config = VerificationConfig()
    rules = NeedleRules.of(profile)
    rows: list[tuple[bytes, str]] = []
    done: list[tuple[str, object, object]] = []  # (bronze key, original, de-identified)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            original = read_dicom(data)
            out = engine.deidentify(original).dataset
            rows += original_needles(original, keys, profile, config.kinds, sha)
            done.append((sha, original, out))
        params = VerifyParams(keys, merge_needles(rows), os.fspath(work), config)
        for label, keyed in (("run-wide dates (before)", False), ("dates keyed by input (after)", True)):
            kinds: Counter[str] = Counter()
            where: Counter[tuple[str, str]] = Counter()
            instances = excused = 0
            for sha, original, out in done:
                found, _ = check_header(out, params, sha if keyed else None)
                instances += bool(found)
                kinds.update(k for _, k in found)
                where.update(found)
                if keyed:
                    mine, made = own_keys(original, rules), own_pseudonyms(original, keys)
                    excused += sum(own_value(original, out, w, rules, mine)
                                   or keyed_replacement(original, out, w, k, keys, profile, made)
                                   for w, k in found)
            print(f"{label}: {len(done)} instances, {sum(kinds.values())} findings in {instances} instances "
                  f"{dict(sorted(kinds.items()))}" + (f"; excused by the own-value rules: {excused}" if keyed else ""))
            for (path, kind), n in sorted(where.items()):  # tag paths and matchers only, never a value
                print(f"    {path} {kind}: {n}")


if __name__ == "__main__":
    main()
