"""deid: de-identification of DICOM archive exports on Apache Spark (PS3.15 Annex E)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deid-pipeline")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
