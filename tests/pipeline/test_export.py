"""Crosswalk export (MIDI-B id_old,id_new CSVs and the look-up) for authorised users, on delta-rs."""

from __future__ import annotations

import csv
import hashlib
import os
import stat
from pathlib import Path

import pyarrow as pa
import pytest

from deid.config import TableBackend
from deid.crosswalk import CrosswalkKind, seal
from deid.errors import ZoneError
from deid.keys import KeyRing
from deid.pipeline.export import FILES, LOOKUP, export_crosswalk, lookup
from deid.tables import CROSSWALK, Tables
from deid.zones import Zones

ORIGINALS = [(CrosswalkKind.UID, "1.2.840.113619.2.1", "2.25.1"), (CrosswalkKind.PATIENT_ID, "MRN-7731", "P-1"),
             (CrosswalkKind.PATIENT_NAME, "DOE^JANE", "ANON^1")]


@pytest.fixture
def crosswalk(tmp_path: Path, test_keyring: KeyRing) -> tuple[Tables, Zones]:
    zs = Zones(raw=str(tmp_path / "raw"), crosswalk=str(tmp_path / "xw"), output=str(tmp_path / "out"))
    tables = Tables(None, TableBackend.DELTA_RS)  # type: ignore[arg-type]  # delta-rs on the driver: no Spark
    other = KeyRing(hashlib.sha256(b"a rotated-out key").digest())  # its rows are never exported
    rows = [seal(k, kind, original, pseudonym).__dict__ | {"run_id": "r", "created_at": None}
            for k in (test_keyring, other) for kind, original, pseudonym in ORIGINALS]
    tables.append_arrow(pa.Table.from_pylist(rows, schema=CROSSWALK.schema), zs.crosswalk_table, CROSSWALK,
                        app_id="t", version=0)
    return tables, zs


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_export_writes_the_mappings_of_this_key_only(crosswalk: tuple[Tables, Zones], tmp_path: Path,
                                                     test_keyring: KeyRing) -> None:
    tables, zs = crosswalk
    dest = tmp_path / "export"
    counts = export_crosswalk(tables, zs, test_keyring, str(dest))
    assert counts == {FILES["uid"]: 1, FILES["patient_id"]: 1, LOOKUP: 3}
    assert _read(dest / FILES["uid"]) == [["id_old", "id_new"], ["1.2.840.113619.2.1", "2.25.1"]]
    assert _read(dest / FILES["patient_id"]) == [["id_old", "id_new"], ["MRN-7731", "P-1"]]
    assert sorted(_read(dest / LOOKUP)[1:]) == sorted([k.value, p, o] for k, o, p in ORIGINALS)
    if os.name != "nt":
        assert stat.S_IMODE(dest.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == {0o600}


def test_export_never_into_the_deidentified_output(crosswalk: tuple[Tables, Zones],
                                                   test_keyring: KeyRing) -> None:
    tables, zs = crosswalk
    with pytest.raises(ZoneError, match="overlaps the de-identified output"):
        export_crosswalk(tables, zs, test_keyring, zs.output + "/crosswalk")


def test_lookup_one_pseudonym(crosswalk: tuple[Tables, Zones], test_keyring: KeyRing) -> None:
    tables, zs = crosswalk
    assert lookup(tables, zs, test_keyring, "P-1") == [("patient_id", "MRN-7731")]
    assert lookup(tables, zs, test_keyring, "P-unknown") == []
