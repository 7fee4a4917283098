from __future__ import annotations

import base64
import os

import pytest

from deid.errors import KeyMaterialError
from deid.keys import KeyRing, KeySource, Purpose, load_keyring, new_master_key, parse_master_key


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEID_KEY", raising=False)
    with pytest.raises(KeyMaterialError, match="DEID_KEY"):
        load_keyring()


@pytest.mark.parametrize("bad", ["short", "00" * 32, "a" * 64, "correct horse battery staple",
                                 base64.b64encode(b"x" * 16).decode()])
def test_weak_keys_refused(bad: str) -> None:
    with pytest.raises(KeyMaterialError):
        parse_master_key(bad)


@pytest.mark.parametrize("encode", [lambda b: b.hex(), lambda b: base64.b64encode(b).decode(),
                                    lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")])
def test_key_encodings_accepted(encode) -> None:  # type: ignore[no-untyped-def]
    raw = os.urandom(32)
    assert parse_master_key(encode(raw)) == raw


def test_keygen_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_master_key()
    monkeypatch.setenv("DEID_KEY", key)
    ring = load_keyring()
    assert ring.master == bytes.fromhex(key)
    assert key not in repr(ring)


def test_purposes_are_separated() -> None:
    ring = KeyRing(os.urandom(32))
    derived = {ring.derive(p) for p in Purpose}
    assert len(derived) == len(Purpose)
    assert ring.master not in derived


@pytest.mark.parametrize("source", [KeySource.DATABRICKS, KeySource.AWS])
def test_secret_store_sources_need_a_name(source: KeySource) -> None:
    with pytest.raises(KeyMaterialError, match="keys.name"):
        load_keyring(source)


def test_databricks_source_off_databricks_is_clear() -> None:
    with pytest.raises(KeyMaterialError, match="Databricks|dbutils"):
        load_keyring(KeySource.DATABRICKS, scope="deid", name="master-key")
