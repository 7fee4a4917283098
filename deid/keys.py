"""Key material: one secret master key, per-purpose keys derived from it with HKDF (RFC 5869).

The master key comes from the environment (``DEID_KEY``, local runs) or from a secret store named in
the configuration (Databricks secret scope, AWS Secrets Manager). There is no default key and no key
in any config file. Rotating the key is documented in the README ("Key management").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deid.config import KeysConfig, KeySource
from deid.errors import KeyMaterialError

MIN_KEY_BYTES = 32


class Purpose(str, Enum):
    """Domain separation: each use of the master key gets its own derived key."""

    UID = "uid-remap"
    PSEUDONYM = "pseudonym"
    DATE_SHIFT = "date-shift"
    CROSSWALK_ENC = "crosswalk-encryption"
    CROSSWALK_HASH = "crosswalk-lookup-hash"


def parse_master_key(text: str) -> bytes:
    """Decode a master key given as hex (64+ digits) or base64 (32+ bytes decoded).

    Raw pass-phrases are refused: their entropy cannot be told from their length.
    """
    text = text.strip()
    raw: bytes | None = None
    if len(text) >= 2 * MIN_KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
        raw = bytes.fromhex(text)
    else:
        padded = text + "=" * (-len(text) % 4)
        for decode in (lambda t: base64.b64decode(t, validate=True),
                       lambda t: base64.b64decode(t, altchars=b"-_", validate=True)):
            try:
                raw = decode(padded)
                break
            except (binascii.Error, ValueError):
                continue
    if raw is None or len(raw) < MIN_KEY_BYTES:
        raise KeyMaterialError(
            f"the master key must be at least {MIN_KEY_BYTES} random bytes, given as hex "
            f"({2 * MIN_KEY_BYTES}+ hex digits) or base64; create one with `deid keygen`")
    if len(set(raw)) < 16:
        raise KeyMaterialError("the master key has too little variety to be random; "
                               "create one with `deid keygen`")
    return raw


@dataclass(frozen=True)
class KeyRing:
    """The master key and the keys derived from it. ``repr`` never shows key bytes."""

    master: bytes = field(repr=False)

    def derive(self, purpose: Purpose) -> bytes:
        return _derived(self.master, purpose)

    @cached_property
    def version(self) -> str:
        """A short public fingerprint of the master key, stored with every row so rotation is traceable."""
        return hmac.new(self.master, b"deid key version", hashlib.sha256).hexdigest()[:12]

    def mac(self, purpose: Purpose, data: bytes) -> bytes:
        return hmac.new(self.derive(purpose), data, hashlib.sha256).digest()


_CACHE: dict[tuple[bytes, Purpose], bytes] = {}


def _derived(master: bytes, purpose: Purpose) -> bytes:
    key = (master, purpose)
    if key not in _CACHE:
        _CACHE[key] = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"deid-pipeline/v1",
                           info=purpose.value.encode()).derive(master)
    return _CACHE[key]


def load_keyring(source: KeySource = KeySource.ENV, *, env_var: str = "DEID_KEY",
                 scope: str | None = None, name: str | None = None,
                 region: str | None = None) -> KeyRing:
    """Read the master key from its configured source; a missing key is a clear error."""
    if source is KeySource.ENV:
        value = os.environ.get(env_var)
        if not value:
            raise KeyMaterialError(
                f"no de-identification key: set the environment variable {env_var} to a key made "
                "with `deid keygen` (32 random bytes, hex)")
        return KeyRing(parse_master_key(value))
    if not name:
        raise KeyMaterialError(f"keys.name must name the secret for keys.source={source.value}")
    if source is KeySource.DATABRICKS:
        if not scope:
            raise KeyMaterialError("keys.scope must name the Databricks secret scope")
        value = _databricks_secret(scope, name)
    else:
        value = _aws_secret(name, region)
    return KeyRing(parse_master_key(value))


def keyring_for(cfg: KeysConfig) -> KeyRing:
    """The key ring of a pipeline config's ``keys:`` section."""
    return load_keyring(cfg.source, env_var=cfg.env_var, scope=cfg.scope, name=cfg.name, region=cfg.region)


def _databricks_secret(scope: str, name: str) -> str:
    try:
        from databricks.sdk.runtime import dbutils  # type: ignore[import-not-found]
    except ImportError:
        try:
            from pyspark.dbutils import DBUtils  # type: ignore[import-not-found]
            from pyspark.sql import SparkSession

            dbutils = DBUtils(SparkSession.builder.getOrCreate())
        except ImportError:
            raise KeyMaterialError("keys.source=databricks works only on Databricks "
                                   "(dbutils is not available here)") from None
    try:
        return str(dbutils.secrets.get(scope=scope, key=name))
    except Exception as exc:  # noqa: BLE001 - the SDK raises its own types
        raise KeyMaterialError(f"cannot read secret '{name}' from scope '{scope}' "
                               f"({exc.__class__.__name__})") from None


def _aws_secret(name: str, region: str | None) -> str:
    try:
        import boto3  # type: ignore[import-not-found]
    except ImportError:
        raise KeyMaterialError("keys.source=aws needs boto3 (present on EMR)") from None
    try:
        client = boto3.client("secretsmanager", region_name=region)
        return str(client.get_secret_value(SecretId=name)["SecretString"])
    except Exception as exc:  # noqa: BLE001 - botocore raises its own types
        raise KeyMaterialError(f"cannot read secret '{name}' from AWS Secrets Manager "
                               f"({exc.__class__.__name__})") from None


def new_master_key() -> str:
    """A fresh master key as 64 hex digits (``deid keygen``)."""
    return os.urandom(MIN_KEY_BYTES).hex()
