"""Every configuration model of the pipeline, and the one way configuration files are found and read.

* :mod:`deid.config.base` - ``conf_dir()``, ``load_model()``: YAML -> validated model, ConfigError.
* :mod:`deid.config.pipeline` - the pipeline config (``conf/local.yaml``): zones, ingest, Spark, keys.
* :mod:`deid.config.pixels` - the pixel stage (``pixels:``).
* :mod:`deid.config.quality` - the quality gate (``quality:``).

Runtime modules import these; this package imports nothing of the runtime.
"""

from deid.config.base import FrozenModel, conf_dir, load_model, read_yaml
from deid.config.pipeline import (
    CrosswalkConfig,
    DeidConfig,
    DriverJit,
    GrantMode,
    GrantsConfig,
    IngestConfig,
    KeysConfig,
    KeySource,
    SparkConfig,
    TableBackend,
    ZonesConfig,
    config_from_mapping,
    default_config_path,
    load_config,
)
from deid.config.pixels import (
    ClassifierConfig,
    EngineName,
    ExtremeRender,
    OcrConfig,
    OutputSyntax,
    PixelConfig,
    RedactPolicy,
    Render,
)
from deid.config.quality import OcrCheckConfig, QualityConfig, VerificationConfig

__all__ = [
    "ClassifierConfig", "CrosswalkConfig", "DeidConfig", "DriverJit", "EngineName", "ExtremeRender", "FrozenModel",
    "GrantMode", "GrantsConfig", "IngestConfig", "KeySource", "KeysConfig", "OcrCheckConfig", "OcrConfig",
    "OutputSyntax", "PixelConfig", "QualityConfig", "RedactPolicy", "Render", "SparkConfig", "TableBackend",
    "VerificationConfig", "ZonesConfig", "conf_dir", "config_from_mapping", "default_config_path",
    "load_config", "load_model", "read_yaml",
]
