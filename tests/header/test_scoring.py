"""The free-text scorer batched across instances (issue #11, deid.header.scoring): the same cleaned
values, byte for byte, as one scorer pass per value, on real files and on synthetic free text."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header.engine import DeidResult, HeaderEngine, PixelStatus
from deid.header.phi_text import FreeTextPhiModel
from deid.header.profile import load_profile
from deid.header.scoring import MARGIN, EngineScores
from deid.keys import KeyRing
from deid.samples import deid_data_files, pydicom_files, shared_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
freetext_data = pytest.importorskip("freetext_data")

# Real files under 1 MB (the larger ones hold pixels, not more free text; kept out for CI time).
FILES = [f for f in pydicom_files() + deid_data_files() + shared_files() if f.stat().st_size < 1 << 20]
CHUNK = 32  # instances per batch, several batches over the real files


def _texts() -> list[str]:
    """Synthetic free text of the training generator (an equality check, nothing is measured on it)."""
    return [s.text for s in freetext_data.make("train", 20, 10, seed=4444)]


@pytest.fixture
def model(keys: KeyRing) -> Iterator[FreeTextPhiModel]:
    """The shipped scorer with an empty cache, one intra-op thread (as under Spark: OMP_NUM_THREADS =
    spark.task.cpus), restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    scorer = HeaderEngine(load_profile("research"), keys).scorer()
    assert isinstance(scorer, FreeTextPhiModel)
    scorer.clear_cache()
    yield scorer
    scorer.clear_cache()
    torch.set_num_threads(threads)


def _one_by_one(engine: HeaderEngine, datasets: list[Dataset]) -> list[bytes | Reason]:
    out: list[bytes | Reason] = []
    for ds in datasets:
        try:
            res = engine.deidentify(ds)
        except InputError as err:
            out.append(err.reason)
            continue
        engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
        out.append(write_dicom(res.dataset))
    return out


def _batched(engine: HeaderEngine, datasets: list[Dataset]) -> tuple[list[bytes | Reason], list[int]]:
    """Outputs, and the indexes of the datasets that had values deferred to a batch."""
    out: list[bytes | Reason] = []
    deferred: list[int] = []
    for start in range(0, len(datasets), CHUNK):
        batch = engine.free_text_batch()
        results: list[DeidResult | Reason] = []
        for ds in datasets[start:start + CHUNK]:
            try:
                results.append(engine.deidentify(ds, batch=batch))
            except InputError as err:
                results.append(err.reason)
        engine.finish(batch)
        for i, res in enumerate(results, start):
            if isinstance(res, Reason):
                out.append(res)
                continue
            res.check()
            if res.deferred is not None and res.deferred.values:
                deferred.append(i)
            engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
            out.append(write_dicom(res.dataset))
    return out, deferred


def _read_all(paths: list[Path]) -> list[Dataset | Reason]:
    out: list[Dataset | Reason] = []
    for p in paths:
        try:
            out.append(read_dicom(p.read_bytes()))
        except InputError as err:
            out.append(err.reason)
    return out


def _comments_ds(text: str, name: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[text, name])  # the same for both runs
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[name])
    ds.PatientName = name
    ds.PatientID = "PID-" + name[:3]
    ds.ImageComments = text
    ds.StudyDescription = text[:64]
    return ds


def _same_outputs(model: FreeTextPhiModel, keys: KeyRing, make: Callable[[], list[Dataset]]) -> list[int]:
    """Batched over every dataset (with the engine's cache of cleaned text), then one scorer pass per
    value and no cache (the reference) over those that had values deferred (the others never reach
    the scorer): the same bytes. Returns those indexes."""
    many, deferred = _batched(HeaderEngine(load_profile("research"), keys), make())
    model.clear_cache()
    again = make()
    reference = HeaderEngine(load_profile("research"), keys)
    reference.clean_cache = None
    one = _one_by_one(reference, [again[i] for i in deferred])
    assert [many[i] for i in deferred] == one
    return deferred


def test_batched_figures_agree_with_one_text_figures(model: FreeTextPhiModel) -> None:
    texts = _texts()
    batched = model.score_batch(texts)
    single = [model.word_probs([t])[0] for t in texts]
    drift = max(abs(a - b) for x, y in zip(batched, single, strict=True) for a, b in zip(x, y, strict=True))
    assert all(len(x) == len(y) for x, y in zip(batched, single, strict=True))
    assert drift < MARGIN / 100  # the re-scoring margin is far above the drift


def test_batched_engine_writes_the_same_bytes_on_real_files(model: FreeTextPhiModel, keys: KeyRing) -> None:
    if not FILES:
        pytest.skip("no real files")

    def make() -> list[Dataset]:
        return [d for d in _read_all(FILES) if isinstance(d, Dataset)]

    deferred = _same_outputs(model, keys, make)
    assert len(deferred) >= 10  # files whose values were deferred and completed from batched figures


def test_batched_engine_cleans_synthetic_free_text_alike(model: FreeTextPhiModel, keys: KeyRing) -> None:
    texts = _texts()

    def make() -> list[Dataset]:
        return [_comments_ds(t, f"Doe{i}^Jane") for i, t in enumerate(texts)]

    deferred = _same_outputs(model, keys, make)
    assert len(deferred) >= len(texts) // 2


def test_a_figure_near_a_threshold_is_rescored_alone(model: FreeTextPhiModel,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()[:12]
    probs = model.score_batch(texts)
    calls: list[str] = []
    real = model.word_probs

    def counted(batch: list[str]) -> list[list[float]]:
        calls.extend(batch)
        return real(batch)

    monkeypatch.setattr(model, "word_probs", counted)
    far = EngineScores(model, (2.0,))  # no figure can be near
    far.fill(texts)
    assert calls == []
    near = EngineScores(model, (probs[5][0] + MARGIN / 2,))
    near.fill(texts)
    assert texts[5] in calls
    assert near.lookup(texts[5]) == real([texts[5]])[0]


def test_an_unfinished_batch_leaves_values_removed_and_results_refuse(model: FreeTextPhiModel,
                                                                      keys: KeyRing) -> None:
    engine = HeaderEngine(load_profile("research"), keys)
    text = "Reviewed with Dr Quentin Albright at Northgate"
    batch = engine.free_text_batch()
    res = engine.deidentify(_comments_ds(text, "Roe^Ann"), batch=batch)
    assert len(batch) > 0
    assert res.dataset.ImageComments == ""  # default deny while waiting: nothing of the original
    with pytest.raises(InputError):
        res.check()
    engine.finish(batch)
    res.check()
    alone = HeaderEngine(load_profile("research"), keys).deidentify(_comments_ds(text, "Roe^Ann"))
    assert res.dataset.ImageComments == alone.dataset.ImageComments
    assert "Albright" not in str(res.dataset.ImageComments)


class _CountingScorer:
    """A stand-in scorer: one figure per word, every call counted."""

    version = "counting-1"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        self.calls.extend(texts)
        return [[0.1] * max(1, len(t.split())) for t in texts]


def test_a_lazy_scorer_is_loaded_only_when_a_text_needs_an_encoder_pass() -> None:
    loads: list[_CountingScorer] = []

    def load() -> _CountingScorer:
        loads.append(_CountingScorer())
        return loads[-1]

    scores = EngineScores(None, (0.5,), loader=load)
    assert scores.lookup("Chest PA") is None
    scores.fill([])
    assert not scores.loaded and loads == []
    scores.fill(["Chest PA", "Chest PA"])
    assert scores.loaded and len(loads) == 1 and loads[0].calls == ["Chest PA"]
    assert scores.version == "counting-1"
    scores.single("Knee")
    assert len(loads) == 1  # loaded once


@pytest.mark.parametrize(("text", "loads"), [("CT chest with contrast", 0),
                                              ("Reviewed with Dr Quentin Albright at Northgate", 1)])
def test_the_engine_loads_its_scorer_only_for_free_text_the_rules_cannot_settle(keys: KeyRing, text: str,
                                                                                 loads: int) -> None:
    engine = HeaderEngine(load_profile("research"), keys)
    loaded: list[_CountingScorer] = []

    def load() -> _CountingScorer:
        loaded.append(_CountingScorer())
        return loaded[-1]

    engine._load_scorer = load  # type: ignore[method-assign,assignment]
    batch = engine.free_text_batch()
    res = engine.deidentify(_comments_ds(text, "Roe^Ann"), batch=batch)
    engine.finish(batch)
    res.check()
    assert len(loaded) == loads
