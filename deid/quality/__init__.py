"""Data-quality gates (great-expectations suites per table), the independent verification pass over
staged DICOM files, and their value-free results. See :class:`deid.quality.gate.QualityGate`."""

from __future__ import annotations

from deid.quality.config import QualityConfig, VerificationConfig, load_quality_config

__all__ = ["QualityConfig", "QualityGate", "VerificationConfig", "load_quality_config"]


def __getattr__(name: str) -> object:  # lazy: importing deid.quality must not start Spark or GE
    if name == "QualityGate":
        from deid.quality.gate import QualityGate

        return QualityGate
    raise AttributeError(name)
