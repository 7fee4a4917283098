from __future__ import annotations

import os

import pytest

from deid.crosswalk import CrosswalkKind, lookup_hash, open_record, open_sealed, seal
from deid.errors import CryptoError
from deid.keys import KeyRing


def test_seal_round_trip_and_determinism() -> None:
    keys = KeyRing(os.urandom(32))
    a = seal(keys, CrosswalkKind.PATIENT_ID, "MRN-42", "P1")
    b = seal(keys, CrosswalkKind.PATIENT_ID, "MRN-42", "P1")
    assert a == b and b"MRN-42" not in a.original_enc
    assert a.original_hash == lookup_hash(keys, CrosswalkKind.PATIENT_ID, "MRN-42")
    assert open_record(a, keys) == "MRN-42"
    assert a.key_version == keys.version


def test_wrong_key_or_tampering_fails() -> None:
    keys, other = KeyRing(os.urandom(32)), KeyRing(os.urandom(32))
    rec = seal(keys, CrosswalkKind.UID, "1.2.3", "2.25.9")
    with pytest.raises(CryptoError):
        open_record(rec, other)
    with pytest.raises(CryptoError):
        open_sealed(keys, rec.kind, "2.25.10", rec.original_enc)  # moved to another pseudonym
