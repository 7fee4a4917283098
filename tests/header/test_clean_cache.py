"""The engine's cache of cleaned free text (deid.header.clean.CleanCache): a text is cleaned again for
an instance whose identifying values answer differently, and every output is the uncached one."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header import freetext
from deid.header.clean import CleanCache, _Probe, _Unsupported
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import FreeTextDetector, Profile, load_profile
from deid.keys import KeyRing
from deid.samples import deid_data_files, pydicom_files, shared_files

FILES = [f for f in pydicom_files() + deid_data_files() + shared_files() if f.stat().st_size < 1 << 20][:60]
# (text, patient name): each text's cleaning depends on whether the instance's own name is in it
TEXTS = ["small green lesion", "rose colored area", "chest wall", "left knee pain", "head ct"]
NAMES = ["Green^Rose", "Wall^Knee", "Doe^Jane"]


def _engine(name: str, keys: KeyRing, cached: bool) -> HeaderEngine:
    profile: Profile = load_profile(name)
    rules = profile.free_text.model_copy(update={"detector": FreeTextDetector.RULES})
    engine = HeaderEngine(profile.model_copy(update={"free_text": rules}), keys)
    if not cached:
        engine.clean_cache = None
    return engine


def _instance(text: str, name: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[text, name])
    ds.PatientName = name
    ds.PatientID = "PID-" + name[:3]
    ds.ImageComments = text
    return ds


def test_a_text_is_cleaned_for_each_instances_own_names(test_keyring: KeyRing) -> None:
    cached, plain = _engine("research", test_keyring, True), _engine("research", test_keyring, False)
    seen: dict[str, set[str]] = {}
    for _ in range(2):  # the second round is answered from the cache
        for text in TEXTS:
            for name in NAMES:
                got = cached.deidentify(_instance(text, name)).dataset.ImageComments
                assert got == plain.deidentify(_instance(text, name)).dataset.ImageComments
                seen.setdefault(text, set()).add(got)
    assert sum(len(v) > 1 for v in seen.values()) >= 3  # the same text, cleaned differently per instance
    assert cached.clean_cache is not None and len(cached.clean_cache) >= len(TEXTS)


def test_a_repeated_text_is_cleaned_once(test_keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = freetext.FreeTextCleaner.clean

    def counted(self: freetext.FreeTextCleaner, text: str) -> freetext.Cleaned:
        calls.append(text)
        return real(self, text)

    monkeypatch.setattr(freetext.FreeTextCleaner, "clean", counted)
    engine = _engine("research", test_keyring, True)
    for k in range(5):  # five instances of one patient: new UIDs, the same description
        ds = _instance("small green lesion", "Green^Rose")
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[str(k)])
        assert engine.deidentify(ds).dataset.ImageComments == "small [X] lesion"
    assert calls.count("small green lesion") == 1


def test_the_probe_records_questions_and_refuses_what_it_cannot_record() -> None:
    probe = _Probe(frozenset({"green", "rose"}))
    assert "green" in probe and "lesion" not in probe and probe
    assert probe.asked == {"green": True, "lesion": False, "\x00empty": False} and not probe.opaque
    cache = CleanCache()
    assert cache.lookup("x", frozenset()) is None
    list(probe)
    assert probe.opaque
    with pytest.raises(_Unsupported):
        probe.union({"x"})  # type: ignore[attr-defined]


def _outputs(engine: HeaderEngine) -> list[bytes | Reason]:
    out: list[bytes | Reason] = []
    for p in FILES:
        try:
            res = engine.deidentify(read_dicom(p.read_bytes()), in_place=True)
            engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
            out.append(write_dicom(res.dataset))
        except InputError as err:
            out.append(err.reason)
    return out


@pytest.mark.parametrize("profile", ["basic", "research"])
def test_real_files_come_out_the_same_with_and_without_the_cache(profile: str, test_keyring: KeyRing) -> None:
    if not FILES:
        pytest.skip("no real files")
    cached = _engine(profile, test_keyring, True)
    first, second = _outputs(cached), _outputs(cached)  # the second pass reads the cache
    assert first == second == _outputs(_engine(profile, test_keyring, False))
    assert cached.clean_cache is not None and len(cached.clean_cache) > 0
