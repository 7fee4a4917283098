"""Probe: person initials in many written forms (issue 13, item 1; twelfth session).

Builds ``n`` sentences with initials written "J.K.", "JK", "jk", "J. Smith", "Smith J", after "per",
"d/w", "spoke to", "informed", before "aware", and as a sign-off at the value's end ("Stable. JK",
"Stable /JK"), with given names and surnames of 31 Faker locales (the templates and clinical phrases
are this script's own, not the evaluation's), and counts the sentences in which a letter group or
surname of the person survives the cleaner (with its learned scorer). A change may not raise it.

Run: PYTHONHASHSEED=0 OMP_NUM_THREADS=1 nice -n 10 python scripts/probe_initials.py 400 7 [--show]
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker  # noqa: E402

from deid.header.freetext import FreeTextCleaner  # noqa: E402
from deid.header.phi_text import load_scorer  # noqa: E402

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pl_PL", "pt_BR", "sv_SE",
           "fi_FI", "cs_CZ", "tr_TR", "da_DK", "hu_HU", "ro_RO", "en_IN", "id_ID", "vi_VN", "en_PH",
           "hr_HR", "sk_SK", "no_NO", "es_MX", "fr_CA", "en_AU", "en_NZ", "sl_SI", "lt_LT", "lv_LV", "et_EE"]

CLIN = ["no acute abnormality", "stable appearances", "small pleural effusion", "mild cardiomegaly",
        "no change since prior", "contrast given without incident", "motion artefact on T2",
        "patient repositioned", "findings as above", "query fracture of distal radius"]

T = [
 # J.K.
 "{c}. Reviewed with {JdKd} today.", "Report checked by {JdKd}", "{C}, discussed with {JdKd}.",
 "{C}. {JdKd}", "Verified {JdKd} - {c}",
 # JK
 "Discussed with {JK} today, {c}.", "{C}. per {JK}", "per {JK}: {c}", "d/w {JK}, {c}.", "{C}; d/w {JK}",
 "{C}. {JK}", "{C} -{JK}", "{C} /{JK}", "Scanned by {JK}. {C}.", "{JK} aware, {c}.", "Spoke to {JK}, {c}.",
 "Informed {JK} of result.", "{C}, d/w {JK} and {LM}.", "{C}. Reported {JK}/{lm}",
 # J. Smith
 "Seen by {J}. {Smith}, {c}.", "{C}. {J}. {Smith}", "Referred by {J}. {Smith}.", "d/w {J}. {Smith} - {c}",
 "{J}. {Smith} aware of {c}.", "Discussed with {J}.{Smith} today.",
 # Smith J
 "Reported by {Smith} {J}", "{C}. {Smith} {J}.", "d/w {Smith} {J}, {c}", "{Smith} {J} informed, {c}.",
 "Checked {Smith} {J}, {c}", "{C}. Dr {Smith} {J}",
 # lower case
 "{C}. per {jk}", "d/w {jk}, {c}.", "{c} - {jk}", "{C}. {jk}",
]



def main(n: int = 400, seed: int = 7, show: bool = False) -> None:
    rng = random.Random(seed)
    fks = {loc: Faker(loc) for loc in LOCALES}
    for loc, f in fks.items():
        f.seed_instance(seed + LOCALES.index(loc))
    c = FreeTextCleaner(frozenset(), load_scorer())
    left = 0
    by_t: dict[str, int] = {}
    for k in range(n):
        f = fks[rng.choice(LOCALES)]
        fn, ln = f.first_name(), f.last_name()
        fn2, ln2 = f.first_name(), f.last_name()
        if not (fn[0].isalpha() and ln[0].isalpha() and fn2[0].isalpha() and ln2[0].isalpha()):
            continue
        t = T[k % len(T)]
        c1 = rng.choice(CLIN)
        JK = (fn[0] + ln[0]).upper()
        if rng.random() < 0.3:
            JK = (fn[0] + rng.choice("ABCDEFGHJKLMNPRSTW") + ln[0]).upper()
        vals = dict(JdKd=".".join(JK) + ".", JK=JK, jk=JK.lower(), J=fn[0].upper(), Smith=ln, LM=(fn2[0]+ln2[0]).upper(),
                    lm=(fn2[0]+ln2[0]).lower(), c=c1, C=c1[0].upper() + c1[1:])
        s = t.format(**vals)
        out = c.clean(s).text
        phi = set()
        for key in re.findall(r"\{(\w+)\}", t):
            if key in ("c", "C"):
                continue
            phi |= set(re.findall(r"[^\W_]+", vals[key]))
        toks = set(re.findall(r"[^\W_]+", out))
        kept = phi & toks
        if kept:
            left += 1
            by_t[t] = by_t.get(t, 0) + 1
            if show:
                print("LEFT", repr(s), "->", repr(out), sorted(kept))
    print(f"initials probe seed {seed}: {left}/{n} sentences keep a PHI token")
    for t, v in sorted(by_t.items(), key=lambda x: -x[1]):
        print(f"  {v:3d} {t}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400, int(sys.argv[2]) if len(sys.argv) > 2 else 7, "--show" in sys.argv)
