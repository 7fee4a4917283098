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


KEYS_WITH_EVERY_BASE64_CHAR = [bytes(range(i, i + 32)) for i in (0, 100, 190, 224)] + [
    bytes.fromhex("fbff" * 16), bytes.fromhex("f8fe3e" * 10 + "fbef")]


@pytest.mark.parametrize("raw", KEYS_WITH_EVERY_BASE64_CHAR)
@pytest.mark.parametrize("encode", [lambda b: b.hex(), lambda b: base64.b64encode(b).decode(),
                                    lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")])
def test_key_encodings_accepted(encode, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    if len(set(raw)) < 16:
        with pytest.raises(KeyMaterialError):
            parse_master_key(encode(raw))
        return
    assert parse_master_key(encode(raw)) == raw


def test_random_keys_round_trip_in_every_encoding() -> None:
    for _ in range(200):
        raw = os.urandom(32)
        for text in (raw.hex(), base64.b64encode(raw).decode(),
                     base64.urlsafe_b64encode(raw).decode().rstrip("=")):
            assert parse_master_key(text) == raw


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
