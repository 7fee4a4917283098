"""Crosswalk export for authorised users: MIDI-B ``id_old,id_new`` CSVs and a re-identification look-up.

Decryption needs the master key. The files written are PHI: the destination must be outside the
de-identified output; locally it is created 0700 with files 0600.
"""

from __future__ import annotations

import csv
import io

from deid import zones
from deid.crosswalk import CrosswalkKind, open_sealed
from deid.errors import ZoneError
from deid.keys import KeyRing
from deid.tables import CROSSWALK, Tables

FILES = {
    CrosswalkKind.UID.value: "uid_mapping.csv",
    CrosswalkKind.PATIENT_ID.value: "patient_id_mapping.csv",
}
LOOKUP = "reidentification_lookup.csv"


def export_crosswalk(tables: Tables, zs: zones.Zones, keyring: KeyRing, dest: str) -> dict[str, int]:
    """Write the mapping CSVs (rows of this key version) into ``dest``; returns rows per file."""
    if zones.overlaps(dest, zs.output):
        raise ZoneError("the crosswalk export destination overlaps the de-identified output")
    data = tables.read_arrow(zs.crosswalk_table, CROSSWALK,
                             ["kind", "pseudonym", "original_enc", "key_version"]).to_pylist()
    zones.make_private_dir(dest)
    buffers = {name: io.StringIO() for name in [*FILES.values(), LOOKUP]}
    writers = {name: csv.writer(buf, lineterminator="\n") for name, buf in buffers.items()}
    for name in FILES.values():
        writers[name].writerow(["id_old", "id_new"])
    writers[LOOKUP].writerow(["kind", "pseudonym", "original"])
    counts = dict.fromkeys(buffers, 0)
    for row in sorted(data, key=lambda r: (r["kind"], r["pseudonym"])):
        if row["key_version"] != keyring.version:
            continue
        original = open_sealed(keyring, row["kind"], row["pseudonym"], row["original_enc"])
        target = FILES.get(row["kind"])
        if target:
            writers[target].writerow([original, row["pseudonym"]])
            counts[target] += 1
        writers[LOOKUP].writerow([row["kind"], row["pseudonym"], original])
        counts[LOOKUP] += 1
    for name, buf in buffers.items():
        zones.write_bytes(zones.join(dest, name), buf.getvalue().encode("utf-8"))
    zones.secure_local_tree(dest)
    return counts


def lookup(tables: Tables, zs: zones.Zones, keyring: KeyRing, pseudonym: str) -> list[tuple[str, str]]:
    """(kind, original) for one pseudonym (re-identification by an authorised user)."""
    data = tables.read_arrow(zs.crosswalk_table, CROSSWALK,
                             ["kind", "pseudonym", "original_enc", "key_version"]).to_pylist()
    return [(r["kind"], open_sealed(keyring, r["kind"], r["pseudonym"], r["original_enc"]))
            for r in data if r["pseudonym"] == pseudonym and r["key_version"] == keyring.version]
