"""The pipeline configuration (``conf/local.yaml`` and its siblings): YAML validated into pydantic models.

Unknown keys and bad values are a :class:`deid.errors.ConfigError` naming the key. Closed vocabularies
are enums. Secrets never live here: ``keys:`` only says where the master key comes from.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from deid.config.base import FrozenModel as _Model
from deid.config.base import conf_dir, load_model
from deid.config.pixels import PixelConfig
from deid.config.quality import QualityConfig


class TableBackend(str, Enum):
    """How Delta tables are written: Spark's Delta source, the delta-rs fallback, or pick by classpath."""

    AUTO = "auto"
    SPARK_DELTA = "spark_delta"
    DELTA_RS = "delta_rs"


class DriverJit(str, Enum):
    """The just-in-time compilers of a driver JVM started here (local ``deid run``; a cluster's JVMs are
    the cluster's). ``quick``: the client compiler only (``-XX:TieredStopAtLevel=1``); a run's JVM is
    short-lived and mostly moves bytes, and the server compiler's work was a third of a small run's CPU
    (issue #11, seventh session). ``full``: the JVM's default (both compilers)."""

    QUICK = "quick"
    FULL = "full"


class GrantMode(str, Enum):
    """What the job does with the crosswalk's GRANT/REVOKE statements (Unity Catalog)."""

    OFF = "off"
    PRINT = "print"
    APPLY = "apply"


class KeySource(str, Enum):
    """Where the master key is read from (:func:`deid.keys.load_keyring`)."""

    ENV = "env"
    DATABRICKS = "databricks"
    AWS = "aws"


class ZonesConfig(_Model):
    """Storage locations (``file:``/plain paths, ``s3a://``, ``abfss://``, ``dbfs:/Volumes/...``)."""

    input: str | None = None
    raw: str | None = None
    crosswalk: str | None = None
    output: str | None = None


class IngestConfig(_Model):
    path_glob: str = "*"
    recursive: bool = True
    # symbolic links leading outside the input folder are quarantined (LINK_OUTSIDE_ROOT) unless true
    follow_outside_links: bool = False
    max_file_bytes: int = Field(default=512 * 1024 * 1024, ge=1, le=2**31 - 1)
    # Files larger than this never travel as Spark rows: the executor streams them into the PHI
    # zone's blob folder and bronze keeps a reference (JVM rows of hundreds of MB exhaust the heap).
    inline_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1, le=2**31 - 1)


class SparkConfig(_Model):
    master: str | None = "local[2]"
    app_name: str = "deid"
    shuffle_partitions: int = Field(default=4, ge=1)
    arrow_max_records_per_batch: int = Field(default=32, ge=1)
    arrow_max_bytes_per_batch: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    files_max_partition_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Parquet's vectorized reader holds a batch of up to 4,096 rows per column in one contiguous buffer:
    # bronze rows carry file content up to ingest.inline_max_bytes each, and a batch of them (118 MB
    # requested at 1,000 synthetic instances) exhausted a 1 GB local driver heap and killed the JVM
    # (issue #11, seventh session). The row reader holds one row at a time. True: Spark's default.
    parquet_vectorized_reader: bool = False
    ui_enabled: bool = False
    driver_memory: str | None = None
    executor_memory: str | None = None
    driver_jit: DriverJit = DriverJit.QUICK
    backend: TableBackend = TableBackend.AUTO
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): str(val).lower() if isinstance(val, bool) else str(val) for k, val in v.items()}
        return v


class KeysConfig(_Model):
    source: KeySource = KeySource.ENV
    env_var: str = "DEID_KEY"
    scope: str | None = None
    name: str | None = None
    region: str | None = None


class GrantsConfig(_Model):
    mode: GrantMode = GrantMode.OFF
    group: str | None = None
    table: str | None = None  # Unity Catalog name of the crosswalk table, e.g. main.phi.crosswalk


class CrosswalkConfig(_Model):
    grants: GrantsConfig = GrantsConfig()


class DeidConfig(_Model):
    profile: str = "research"
    zones: ZonesConfig = ZonesConfig()
    ingest: IngestConfig = IngestConfig()
    spark: SparkConfig = SparkConfig()
    keys: KeysConfig = KeysConfig()
    crosswalk: CrosswalkConfig = CrosswalkConfig()
    pixels: PixelConfig = Field(default_factory=PixelConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)

    def config_hash(self) -> str:
        """Stable short hash of the effective configuration (stored in the runs table; no locations)."""
        data = self.model_dump(mode="json", exclude={"zones"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def with_overrides(self, **zones: str | None) -> DeidConfig:
        """A copy with the given zone locations replaced (those given as None are left as they are)."""
        given = {k: v for k, v in zones.items() if v is not None}
        if not given:
            return self
        return self.model_copy(update={"zones": self.zones.model_copy(update=given)})


def default_config_path() -> Path:
    return conf_dir() / "local.yaml"


def config_from_mapping(data: dict[str, Any], source: str = "config") -> DeidConfig:
    return load_model(DeidConfig, data, name=source)


def load_config(path: str | Path | None = None) -> DeidConfig:
    """Load a YAML configuration file (``conf/local.yaml`` when no path is given)."""
    return load_model(DeidConfig, Path(path) if path is not None else default_config_path())
