"""Duplicate SOP Instance UIDs (0008,0018): decided safely, never "lowest hash wins".

Inputs with the same content are one input (same sha256, deduplicated at ingest). Inputs that carry
one SOP Instance UID with *different* content cannot both be released (one UID, one instance,
PS3.3 C.12.1.1.1) and the pipeline cannot tell which is genuine: a corrupted copy may parse. So:

* exactly one of them valid (the others quarantined at ingest or failing de-identification with their
  own reason) -> the valid one is released;
* two or more valid in this run -> every one is quarantined ``DUPLICATE_UID`` for review;
* a valid input whose UID was already published, or already held as ``DUPLICATE_UID`` by an earlier
  run (same key version and profile) -> quarantined ``DUPLICATE_UID`` as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deid.errors import Reason

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

STAGE = "deidentify"
MESSAGE = ("several inputs with different content carry this SOP Instance UID; none is released "
           "(review them in the PHI zone)")


def flag_duplicates(ok: DataFrame, bronze: DataFrame, metadata: DataFrame, quarantine: DataFrame,
                    *, key_version: str, profile: str) -> DataFrame:
    """``ok`` (valid results: ``sha256``, remapped ``sop_instance_uid``) with a boolean ``_dup``.

    ``bronze`` gives each input's original UID; ``metadata``/``quarantine`` are the published rows
    and earlier quarantine decisions of this output.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    original = (bronze.select("sha256", F.col("sop_instance_uid").alias("_orig_uid"))
                .dropDuplicates(["sha256"]))
    rows = ok.join(original, "sha256", "left").withColumn(
        "_group", F.coalesce(F.col("_orig_uid"), F.col("sop_instance_uid")))
    same_key = (F.col("key_version") == key_version) & (F.col("profile") == profile)
    published = (metadata.where(same_key).select("sop_instance_uid").distinct()
                 .withColumn("_published", F.lit(True)))
    held = (quarantine.where(same_key & (F.col("stage") == STAGE)
                             & (F.col("reason") == Reason.DUPLICATE_UID.value))
            .select("sha256").join(original, "sha256").select(F.col("_orig_uid").alias("_group"))
            .distinct().withColumn("_held", F.lit(True)))
    n_valid = F.size(F.collect_set("sha256").over(Window.partitionBy("_group")))
    flagged = (rows.withColumn("_n", n_valid)
               .join(published, "sop_instance_uid", "left").join(held, "_group", "left"))
    dup = (F.col("_n") > 1) | F.col("_published").isNotNull() | F.col("_held").isNotNull()
    return flagged.withColumn("_dup", dup).drop("_orig_uid", "_group", "_n", "_published", "_held")
