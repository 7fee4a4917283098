"""deid: de-identification of DICOM archive exports on Apache Spark (PS3.15 Annex E).

The package is layered. A module imports only modules of its own layer or of layers below it, and no
two modules import each other, directly or through others (``tests/test_layers.py`` walks every import,
function-level and type-only ones included). From the ground up:
"""

from importlib.metadata import PackageNotFoundError, version

LAYERS: tuple[tuple[str, ...], ...] = (
    ("deid.errors",),                         # the one error tree
    ("deid.standard", "deid.samples"),        # PS3.15 Table E.1-1 as data; public sample files
    ("deid.config",),                         # every configuration model, conf_dir(), load_model()
    ("deid.filewrite",),                      # byte-exact DICOM writer under dicomio.write_dicom
    ("deid.zones", "deid.keys", "deid.dicomio", "deid.crosswalk", "deid.sqlfile",
     "deid.sqlguard", "deid.sparkerrors", "deid.spark_session"),                   # locations and bytes, keys, DICOM I/O, crosswalk records
    ("deid.textmatch",),                      # the one tolerant text matcher
    ("deid.header",),                         # header de-identification (Spark-free)
    ("deid.pipeline.hooks", "deid.pipeline.executor", "deid.pipeline.timing"),  # contracts; task toolkit; stage timers
    ("deid.pixels",),                         # burned-in text: OCR, classify, redact (Spark-free)
    ("deid.tables",),                         # Delta tables
    ("deid.quality",),                        # the quality gate and the verification pass
    ("deid.report",),                         # the run report
    ("deid.pipeline",),                       # ingest, de-identify, release, one run
    ("deid.entry", "deid.cli", "deid.spark_daemon"),  # the ways in: console command, jobs, job tasks; Spark's Python daemon
)

try:
    __version__ = version("deid-pipeline")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["LAYERS", "__version__"]
