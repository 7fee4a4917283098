"""Configuration of the quality gate (``conf/quality/gate.yaml``; embeddable as ``quality:``).

Only pydantic here, so :mod:`deid.config` can embed :class:`QualityConfig` without importing
great-expectations or Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deid.errors import ConfigError

SUITE_NAMES = ("metadata", "crosswalk", "quarantine", "runs")
RULE_KINDS = ("date", "label", "mrn", "accession", "id_groups", "name_format", "phone", "time", "age")
# needle kinds of the one tolerant matcher (deid.textmatch.NeedleKind) the verification pass compares
HASH_KINDS = ("person_name", "id", "date", "address", "institution", "uid", "phone", "email", "other")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OcrCheckConfig(_Model):
    """Re-OCR of redacted frames (PS3.15 E.3.1 Clean Pixel Data, checked a second time)."""

    enabled: bool = True
    sample_fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    max_frames: int = Field(default=8, ge=1)
    min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    rules: tuple[str, ...] = ("date", "label", "mrn", "accession", "id_groups", "name_format", "phone")
    engine: str = "rapidocr"
    # Pattern-only hits (a date- or ID-like line that matches no keyed original) block the release
    # only when true; otherwise they are reported as a warning for a person to review. Lines that
    # match an original identifier by keyed hash always block.
    rules_block: bool = False

    def model_post_init(self, __context: Any) -> None:
        bad = [r for r in self.rules if r not in RULE_KINDS]
        if bad:
            raise ValueError(f"unknown rule kinds {bad}; allowed: {list(RULE_KINDS)}")


class VerificationConfig(_Model):
    enabled: bool = True
    kinds: tuple[str, ...] = HASH_KINDS
    min_length: int = Field(default=3, ge=1)
    max_binary_bytes: int = Field(default=65536, ge=0)
    max_findings: int = Field(default=200, ge=1)
    ocr: OcrCheckConfig = OcrCheckConfig()

    def model_post_init(self, __context: Any) -> None:
        bad = [k for k in self.kinds if k not in HASH_KINDS]
        if bad:
            raise ValueError(f"unknown needle kinds {bad}; allowed: {list(HASH_KINDS)}")


class QualityConfig(_Model):
    enabled: bool = True  # False: the pipeline falls back to the minimal CountsGate
    suites: tuple[str, ...] = SUITE_NAMES
    suite_dir: str | None = None  # None: conf/quality (or the copy packaged in the wheel)
    verification: VerificationConfig = VerificationConfig()

    def model_post_init(self, __context: Any) -> None:
        bad = [s for s in self.suites if s not in SUITE_NAMES]
        if bad:
            raise ValueError(f"unknown suites {bad}; allowed: {list(SUITE_NAMES)}")


def quality_conf_dir() -> Path:
    """``conf/quality`` of the checkout, or ``deid/_conf/quality`` inside an installed wheel."""
    here = Path(__file__).resolve()
    repo = here.parents[2] / "conf" / "quality"
    return repo if repo.is_dir() else here.parents[1] / "_conf" / "quality"


def load_quality_config(path: str | Path | None = None) -> QualityConfig:
    """Read ``gate.yaml`` (default: the shipped one); errors name the key, never a value."""
    p = Path(path) if path is not None else quality_conf_dir() / "gate.yaml"
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"quality config '{p.name}' cannot be read ({exc.__class__.__name__})") from None
    try:
        return QualityConfig.model_validate(data)
    except ValidationError as exc:
        parts = [f"key 'quality.{'.'.join(str(x) for x in e['loc'])}': {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{p.name}: " + "; ".join(parts)) from None
