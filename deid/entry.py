"""The one way in from a command line: ``deid`` (:mod:`deid.cli`), the spark-submit jobs (``jobs/*.py``)
and the job task ``deploy/run_sql.py``.

Each entry point parses its arguments, builds an :class:`Entry` (the configuration file with the zone
and profile overrides of the command line, the zones resolved once and passed down from there) and
runs its work inside :func:`run`, the only place where a :class:`deid.errors.DeidError` becomes a
one-line message (PHI-free by construction of the error tree) and an exit code
(``DeidError.exit_code``: 2 for configuration and environment errors, 1 for work that failed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from deid.config import DeidConfig, load_config
from deid.errors import DeidError
from deid.keys import KeyRing, keyring_for
from deid.zones import Zones, default_phi_zones, resolve

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from deid.tables import Tables

EXIT_OK = 0
EXIT_FAILED_RUN = 1  # the run finished but was not released (or found nothing)


def zone_args(p: argparse.ArgumentParser, *, need_input: bool = False, config_required: bool = False,
              phi_beside_output: bool = False) -> None:
    """The options every entry point shares: the configuration file and the zone overrides."""
    p.add_argument("--config", required=config_required,
                   help="configuration YAML" + ("" if config_required else " (default: conf/local.yaml)"))
    if need_input:
        p.add_argument("--input", help="the export folder (DICOM files, any depth)")
    p.add_argument("--output", help="the de-identified zone (default: zones.output of the config)")
    beside = phi_beside_output
    p.add_argument("--raw", help="the PHI zone" + (" (default: OUTPUT.phi-raw, beside OUTPUT)" if beside
                                                   else " (default: zones.raw of the config)"))
    p.add_argument("--crosswalk", help="the crosswalk zone" + (" (default: OUTPUT.crosswalk)" if beside
                                                               else " (default: zones.crosswalk)"))


def configure(args: argparse.Namespace, *, phi_beside_output: bool = False) -> DeidConfig:
    """The configuration file with the command line's zone and profile overrides applied.

    ``phi_beside_output`` (``deid run``): PHI zones not given anywhere go beside the output.
    """
    cfg = load_config(getattr(args, "config", None))
    output = getattr(args, "output", None) or cfg.zones.output
    raw, xw = getattr(args, "raw", None), getattr(args, "crosswalk", None)
    if phi_beside_output and output:
        d_raw, d_xw = default_phi_zones(output)
        raw = raw or cfg.zones.raw or d_raw
        xw = xw or cfg.zones.crosswalk or d_xw
    cfg = cfg.with_overrides(input=getattr(args, "input", None), output=output, raw=raw, crosswalk=xw)
    if getattr(args, "profile", None):
        cfg = cfg.model_copy(update={"profile": args.profile})
    return cfg


@dataclass(frozen=True)
class Entry:
    """What an entry point works with: the configuration and, resolved once when first asked for,
    the zones, the key ring and the Spark session."""

    cfg: DeidConfig
    need_input: bool = False

    @cached_property
    def zones(self) -> Zones:
        return resolve(self.cfg.zones, need_input=self.need_input)

    @cached_property
    def keyring(self) -> KeyRing:
        return keyring_for(self.cfg.keys)

    @cached_property
    def spark(self) -> SparkSession:
        from deid.spark_session import get_spark

        return get_spark(self.cfg.spark)

    @cached_property
    def tables(self) -> Tables:
        from deid.tables import Tables

        return Tables(self.spark, self.cfg.spark.backend)


def prepare(args: argparse.Namespace, *, need_input: bool = False, phi_beside_output: bool = False) -> Entry:
    return Entry(configure(args, phi_beside_output=phi_beside_output), need_input)


def run(prog: str, work: Callable[[], int]) -> int:
    """``work()``'s exit code; a DeidError is printed as one line and exits with its ``exit_code``."""
    try:
        return int(work())
    except DeidError as err:
        print(f"{prog}: error [{err.code}]: {err.message}", file=sys.stderr)
        return err.exit_code
