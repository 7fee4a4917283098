"""Configuration of the quality gate (``quality:`` in the pipeline config; suites in ``conf/quality/``).

Only pydantic here: the gate's settings are read without importing great-expectations or Spark.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from deid.config.base import FrozenModel as _Model

SUITE_NAMES = ("metadata", "crosswalk", "quarantine", "runs")
RULE_KINDS = ("date", "label", "mrn", "accession", "id_groups", "name_format", "phone", "time", "age")
HASH_KINDS = ("patient_id", "patient_name", "accession_number", "other_id", "uid")


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
            raise ValueError(f"unknown crosswalk kinds {bad}; allowed: {list(HASH_KINDS)}")


class QualityConfig(_Model):
    enabled: bool = True  # False: the pipeline falls back to the minimal CountsGate
    suites: tuple[str, ...] = SUITE_NAMES
    suite_dir: str | None = None  # None: conf/quality (or the copy packaged in the wheel)
    verification: VerificationConfig = VerificationConfig()

    def model_post_init(self, __context: Any) -> None:
        bad = [s for s in self.suites if s not in SUITE_NAMES]
        if bad:
            raise ValueError(f"unknown suites {bad}; allowed: {list(SUITE_NAMES)}")
