"""False alarms of the free-text cleaner on real files (issue 13 item 1, issue 14 item 3).

Every text value (LO SH ST LT UT UC) that the header engine sends to the cleaner under a profile
(Table E.1-1 action C, or not in the table and not on the keep-list), at every depth, of every real
file the project can reach (pydicom's test files, deid-data, ../shared/data/dicom), is cleaned with
that instance's own needles; prints how many were kept as written, cleaned (some words masked) and
removed (default deny), per attribute. Values themselves are never printed.

Run: python scripts/measure_freetext_real.py [--profile research] [--detector model|rules]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydicom.dataelem import DataElement  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402

from deid.dicomio import read_dicom  # noqa: E402
from deid.errors import InputError  # noqa: E402
from deid.header.clean import TextCleaner  # noqa: E402
from deid.header.deny import standard_meaning  # noqa: E402
from deid.header.engine import HeaderEngine  # noqa: E402
from deid.header.freetext import Verdict  # noqa: E402
from deid.header.identifiers import collect_identifiers  # noqa: E402
from deid.header.profile import Action, FreeTextPolicy, load_profile  # noqa: E402
from deid.header.values import TEXT_VRS  # noqa: E402
from deid.keys import KeyRing  # noqa: E402
from deid.samples import deid_data_files, pydicom_files, shared_files  # noqa: E402


def _walk(ds: Dataset) -> Iterator[tuple[Dataset, DataElement]]:
    stack = [ds]
    while stack:
        item = stack.pop()
        for elem in item:
            if elem.VR == "SQ":
                stack.extend(elem.value)
            else:
                yield item, elem


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="research")
    ap.add_argument("--detector", choices=("model", "rules"), default="model")
    ap.add_argument("--dump", type=Path, default=None,
                    help="write each value, its verdict and cleaned text to this local file (for checking by eye; "
                         "public test files only, never commit it)")
    args = ap.parse_args()
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    profile = load_profile(args.profile)
    profile = profile.model_copy(update={"free_text": FreeTextPolicy(detector=args.detector)})
    engine = HeaderEngine(profile, KeyRing(b"\x01" * 32))
    verdicts: Counter[Verdict] = Counter()
    by_attr: Counter[tuple[str, Verdict]] = Counter()
    files = 0
    for path in pydicom_files() + deid_data_files() + shared_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = read_dicom(path.read_bytes(), stop_before_pixels=True)
        except InputError:
            continue
        files += 1
        cleaner = TextCleaner(collect_identifiers(ds), engine.scorer(), profile.free_text)
        for item, elem in _walk(ds):
            if elem.VR not in TEXT_VRS or elem.tag.group & 1 or not elem.value:
                continue
            if elem.keyword == "CodeMeaning" and standard_meaning(item) is not None:
                continue  # replaced by the standard's meaning, not cleaned
            action = engine.table.action_for(int(elem.tag))
            if action not in (None, Action.C) or action is None and int(elem.tag) in profile.keep_text:
                continue
            for value in (elem.value if elem.VM > 1 else [elem.value]):
                if str(value).strip():
                    res = cleaner.assess(str(value))
                    v = res.verdict
                    if dump is not None:
                        dump.write(f"{files}\t{elem.keyword}\t{v.value}\t{value!r}\t{res.text!r}\n")
                    verdicts[v] += 1
                    by_attr[(elem.keyword or "unknown", v)] += 1
    if dump is not None:
        dump.close()
    total = sum(verdicts.values())
    print(f"profile {args.profile}, detector {args.detector}: {files} real files, {total} free-text values")
    for v in Verdict:
        print(f"  {v.value}: {verdicts[v]} ({verdicts[v] / max(total, 1):.1%})")
    print("removed, by attribute:", ", ".join(f"{k}={n}" for (k, v), n in by_attr.most_common()
                                               if v is Verdict.REMOVED))


if __name__ == "__main__":
    main()
