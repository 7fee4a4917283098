"""Data-quality gates (great-expectations suites per table), the independent verification pass over
staged DICOM files, and their value-free results. See :class:`deid.quality.gate.QualityGate`; its
settings are :class:`deid.config.QualityConfig` (``quality:`` in the pipeline config)."""

from __future__ import annotations

__all__ = ["QualityGate"]


def __getattr__(name: str) -> object:  # lazy: importing deid.quality must not start Spark or GE
    if name == "QualityGate":
        from deid.quality.gate import QualityGate

        return QualityGate
    raise AttributeError(name)
