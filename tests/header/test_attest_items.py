"""The attestation's code items made from remembered elements (deid.header.attest._code_item, issue #11)
against pydicom's own way of making them (``setattr``), and the free-text word lists loaded before
the engine freezes its heap."""

from __future__ import annotations

import io

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.header import attest, freetext
from deid.header.engine import HeaderEngine, PixelStatus
from tests.header.test_engine import make_ds


def _pydicom_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def _bytes(items: list[Dataset]) -> bytes:
    ds = Dataset()
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    buf = io.BytesIO()
    ds.save_as(buf, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def test_code_items_write_as_pydicoms() -> None:
    pairs = [("113100", "Basic Application Confidentiality Profile"), ("113107", "Retain Longitudinal "
             "Temporal Information Modified Dates Option")]
    ours = [attest._code_item(v, m) for v, m in pairs]
    again = [attest._code_item(v, m) for v, m in pairs]  # the second from the remembered elements
    theirs = [_pydicom_item(v, m) for v, m in pairs]
    assert _bytes(ours) == _bytes(again) == _bytes(theirs)
    for a, b, p in zip(ours, again, theirs, strict=True):
        assert list(a.keys()) == list(p.keys())
        for tag in p.keys():
            assert (a[tag].VR, a[tag].value) == (p[tag].VR, p[tag].value)
            assert a[tag] is not b[tag]  # new elements for each item


def test_code_items_are_not_shared(research_engine: HeaderEngine) -> None:
    first = research_engine.deidentify(make_ds()).dataset
    second = research_engine.deidentify(make_ds()).dataset
    research_engine.finalize(first, PixelStatus.UNVERIFIED)
    research_engine.finalize(second, PixelStatus.UNVERIFIED)
    a = first.DeidentificationMethodCodeSequence[0]
    b = second.DeidentificationMethodCodeSequence[0]
    assert a is not b and a["CodeMeaning"] is not b["CodeMeaning"]
    a.CodeMeaning = "changed"
    assert b.CodeMeaning != "changed"
    assert research_engine.finalize(second, PixelStatus.UNVERIFIED) is False  # again: still made anew
    assert second.DeidentificationMethodCodeSequence[0].CodeMeaning != "changed"


def test_load_word_lists_fills_every_list() -> None:
    freetext.load_word_lists()
    for build in (freetext._lexicon, freetext._allow, freetext._proper_nouns, freetext._lexicon_vocabulary,
                  freetext._lower_vocabulary, freetext._names, freetext._lexicon_names):
        assert build.cache_info().currsize == 1
