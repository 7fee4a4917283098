"""Crosswalk records: pseudonym <-> original, with the original encrypted (AES-256-GCM) and a keyed
hash beside it for look-ups without decryption.

The nonce is derived from the keyed hash of (kind, original), so the same original always seals to
the same row (reruns are idempotent) while the ciphertext stays authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from deid.errors import CryptoError
from deid.keys import KeyRing, Purpose


class CrosswalkKind(str, Enum):
    PATIENT_ID = "patient_id"
    PATIENT_NAME = "patient_name"
    ACCESSION = "accession_number"
    OTHER_ID = "other_id"
    UID = "uid"
    DATE_SHIFT = "date_shift"


@dataclass(frozen=True)
class SealedRecord:
    """One crosswalk row. Holds no plaintext original."""

    kind: str
    pseudonym: str
    original_hash: str
    original_enc: bytes
    key_version: str


def lookup_hash(keys: KeyRing, kind: CrosswalkKind | str, original: str) -> str:
    """Keyed hash (HMAC-SHA256) of an original value, hex; used to find a row without decrypting."""
    kind_s = kind.value if isinstance(kind, CrosswalkKind) else kind
    return keys.mac(Purpose.CROSSWALK_HASH, f"{kind_s}\x00{original}".encode()).hex()


def seal(keys: KeyRing, kind: CrosswalkKind, original: str, pseudonym: str) -> SealedRecord:
    digest = lookup_hash(keys, kind, original)
    nonce = hmac.new(keys.derive(Purpose.CROSSWALK_ENC), bytes.fromhex(digest), hashlib.sha256).digest()[:12]
    aad = f"{kind.value}\x00{pseudonym}".encode()
    ct = AESGCM(keys.derive(Purpose.CROSSWALK_ENC)).encrypt(nonce, original.encode("utf-8"), aad)
    return SealedRecord(kind=kind.value, pseudonym=pseudonym, original_hash=digest,
                        original_enc=nonce + ct, key_version=keys.version)


def open_sealed(keys: KeyRing, kind: str, pseudonym: str, original_enc: bytes) -> str:
    """Decrypt one crosswalk value (re-identification, authorised users only)."""
    nonce, ct = original_enc[:12], original_enc[12:]
    try:
        plain = AESGCM(keys.derive(Purpose.CROSSWALK_ENC)).decrypt(
            nonce, ct, f"{kind}\x00{pseudonym}".encode())
    except InvalidTag:
        raise CryptoError("the crosswalk value cannot be decrypted with this key "
                          "(wrong key version or tampered row)") from None
    return plain.decode("utf-8")


def open_record(record: SealedRecord, keys: KeyRing) -> str:
    return open_sealed(keys, record.kind, record.pseudonym, record.original_enc)
