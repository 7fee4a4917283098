"""De-identify's task split (deid.pipeline.deidentify.task_partitions): by rows and bytes, spread over
the cores (issue #11)."""

from __future__ import annotations

import pytest

from deid.pipeline.deidentify import ROWS_PER_TASK, _scan_partitions, task_partitions

MB = 1024 * 1024


@pytest.mark.parametrize(("rows", "size", "cores", "parts"), [
    (0, 0, 2, 1),
    (1, 10 * MB, 2, 1),  # one row: one task
    (31, 5 * MB, 2, 4),  # few small rows: two tasks per core
    (3, 1 * MB, 2, 3),  # never more tasks than rows
    (31, 5 * MB, 1, 1),  # one core, small: no split (no shuffle)
    (1000, 100 * MB, 2, 4),
    (10 * ROWS_PER_TASK, 10 * MB, 2, 10),  # bounded by rows
    (100, 640 * MB, 1, 10),  # bounded by bytes (64 MiB each)
])
def test_tasks_are_bounded_by_rows_and_bytes_and_spread_over_the_cores(rows: int, size: int, cores: int,
                                                                        parts: int) -> None:
    assert task_partitions(rows, size, cores, 64 * MB) == parts


def test_a_scan_whose_split_cannot_be_read_counts_as_none() -> None:
    class _NoRdd:  # a Spark Connect DataFrame has no RDD
        @property
        def rdd(self) -> object:
            raise AttributeError("rdd")

    assert _scan_partitions(_NoRdd()) == 0  # type: ignore[arg-type]
