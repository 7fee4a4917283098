"""OCR speed-ups that must not change a result (issue #11 item 5): the detection memo gives exactly
the boxes a new detection gives, the onnxruntime sessions take the task's cores, and a compressed
multi-frame instance is decoded once for OCR with the same renderings as before."""

from __future__ import annotations

import numpy as np
import pytest

from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels import frames as frames_module
from deid.pixels.frames import decode_frames
from deid.pixels.multiframe import (
    iter_ocr_frames,
    mask_render,
    region_mask,
    select_ocr_frames,
    us_data_regions,
)
from deid.pixels.ocr import DetectionMemo, RapidOcrEngine, get_engine, task_threads
from deid.pixels.renderings import renderings
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine, bundled, text_image


@pytest.fixture()
def engine():  # type: ignore[no-untyped-def]
    """The worker's engine with an empty memo of its own (the shared one is put back after)."""
    eng = get_engine("rapidocr", batch_size=4)
    assert isinstance(eng, RapidOcrEngine)
    saved, eng.memo = eng.memo, DetectionMemo()
    yield eng
    eng.memo = saved


def test_memo_gives_each_rendering_the_boxes_a_new_detection_gives(engine: RapidOcrEngine) -> None:
    img = text_image([("DOE^JOHN 12345", 20, 30), ("L12-5 36Hz", 200, 140)])
    renders = [img, img.copy(), 255 - img]  # the second is identical to the first: detected once
    det = engine._ocr.text_det or engine._ocr._load_det_model()
    fresh = [engine._detect_crops(det, [r])[0] for r in renders]
    assert fresh[0] and fresh[0].boxes and fresh[0] == fresh[1]  # text found; the detector is deterministic
    expected = [(x0, y0, x1, y1, k, sc) for k, got in enumerate(fresh) for x0, y0, x1, y1, sc in got.boxes if got]
    assert engine._detect_tile(det, renders)[0] == expected
    assert (engine.memo.misses, engine.memo.hits) == (2, 0)  # the copy never reached the memo nor the detector
    assert engine._detect_tile(det, renders)[0] == expected
    assert (engine.memo.misses, engine.memo.hits) == (2, 2)  # nothing detected again


def test_read_groups_is_the_same_with_a_warm_memo(engine: RapidOcrEngine) -> None:
    a = text_image([("DOB 01/31/2020", 150, 150)])
    b = text_image([("ID 0012345", 30, 20)], shape=(900, 1000))  # tiled: 4 crops per rendering
    cold = engine.read_groups([[a, 255 - a], [b]])
    misses = engine.memo.misses
    warm = engine.read_groups([[a, 255 - a], [b]])
    assert warm == cold and engine.memo.misses == misses
    assert any("2020" in t.text for t in cold[0]) and any("12345" in t.text for t in cold[1])


def test_memo_is_bounded_and_keyed_by_shape() -> None:
    memo = DetectionMemo(capacity=2)
    flat = np.zeros((4, 6, 3), np.uint8)
    assert memo.key(flat) != memo.key(flat.reshape(6, 4, 3))  # same bytes, other crop
    for k in range(3):
        memo.put(bytes([k]), ())
    assert memo.get(bytes([0])) == (False, None) and memo.get(bytes([2])) == (True, ())


@pytest.mark.parametrize(("configured", "env", "expected"), [
    (0, None, 0), (0, "1", 1), (0, "3", 3), (2, "1", 2), (0, "", 0), (0, "many", 0),
])
def test_threads_follow_the_task_cores(monkeypatch: pytest.MonkeyPatch, configured: int, env: str | None,
                                       expected: int) -> None:
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert task_threads(configured) == expected


def test_engine_sessions_take_the_spark_task_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what Spark gives a Python worker (spark.task.cpus)
    eng = RapidOcrEngine(batch_size=2)
    det = eng._ocr.text_det or eng._ocr._load_det_model()
    assert eng.threads == 1
    assert det.session.session.get_session_options().intra_op_num_threads == 1


@pytest.mark.parametrize(("name", "every", "regions"), [
    ("examples_ybr_color.dcm", False, True),   # JPEG, 28 of 30 frames chosen: main decoded 58 times
    ("examples_ybr_color.dcm", False, False),  # data regions left out: frame 0 only
    ("rtdose_rle.dcm", True, False), ("SC_rgb_rle_16bit_2frame.dcm", True, False),
])
def test_compressed_multiframe_is_decoded_once_for_ocr(monkeypatch: pytest.MonkeyPatch, name: str, every: bool,
                                                        regions: bool) -> None:
    ds = bundled(name)
    calls: list[object] = []
    decode = frames_module._as_array

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[2])
        return decode(*args, **kwargs)

    monkeypatch.setattr(frames_module, "_as_array", counted)
    stage = PixelStage(PixelConfig(ocr_every_frame=every, ocr_us_data_regions=regions), engine=ScriptedEngine())
    prep, images = stage._prepare(PixelItem("k", ds, ds, collect_identifiers(ds), "OT"))
    n = int(ds.NumberOfFrames)
    assert sorted(calls) == list(range(n))  # each frame decoded once, one at a time
    # the same frames chosen and the same renderings as selecting first and rendering after
    monkeypatch.setattr(frames_module, "_as_array", decode)
    whole = decode_frames(ds)
    mask = region_mask(whole.rows, whole.columns, [] if regions else us_data_regions(ds, whole.rows, whole.columns))
    chosen = select_ocr_frames(whole, mask, whole.bits_stored, 24.0, 12, every)
    assert [f for f, _ in images] == chosen and len(chosen) >= (2 if every or regions else 1)
    assert chosen == list(iter_ocr_frames(whole, mask, whole.bits_stored, 24.0, 12, every))
    for f, imgs in images:
        expected = [mask_render(r, mask) for r in renderings(whole, f, ds, stage._renders())]
        assert len(imgs) == len(expected) and all(np.array_equal(a, b) for a, b in zip(imgs, expected, strict=True))
    assert set(prep.spans) == set(chosen)
