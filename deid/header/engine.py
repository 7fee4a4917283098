"""The header engine: PS3.15 Annex E applied to a dataset at every depth, keyed and deterministic.

Walk order is iterative (an explicit stack), so nesting depth is bounded by the reader, not by
Python's recursion limit. Per element, the action comes from :class:`deid.header.table.ActionTable`;
for attributes Table E.1-1 does not list, the engine keeps the value (PS3.15 E.1) except:

* UI values that are not registry UIDs are remapped unless Retain UIDs (E.3.9) is on, so every
  reference stays consistent (Referenced SOP Instance UID in any sequence, file meta);
* DA/DT values are transformed like listed dates when a temporal option that modifies dates is on;
* PN values are replaced (a name outside the table is still a name);
* inside a sequence whose action is D, text values other than coded-entry vocabulary get dummies;
  inside a sequence whose action is C, they are cleaned (E.3.4 Clean Structured Content, E.3.3
  Clean Graphics).
"""

from __future__ import annotations

import copy
import gc
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from deid.crosswalk import CrosswalkKind, SealedRecord, seal
from deid.dicomio import (
    blank_dataset,
    blank_file_meta,
    copied_element,
    element,
    element_vr,
    gc_paused,
    quiet_values,
    raw_uid_values,
    raw_vr,
    replace_raw_value,
)
from deid.errors import InputError, Reason
from deid.header import attest, declared_vr, deny, kept
from deid.header.clean import CleanCache, TextCleaner
from deid.header.dates import patient_key, shift_for, transform_date
from deid.header.freetext import WordScorer, load_word_lists
from deid.header.identifiers import Identifiers, collect_identifiers
from deid.header.profile import Action, FreeTextDetector, Profile, ProfileOption
from deid.header.pseudonyms import is_registry_uid, pseudo_id, pseudo_name, remap_uid
from deid.header.scoring import Deferred, EngineScores, FreeTextBatch, ScorerView, scorer_thresholds
from deid.header.table import ActionTable, build_action_table
from deid.header.values import CODED_KEYWORDS, TEXT_VRS, dummy_value, empty_value, fit
from deid.keys import KeyRing

PixelStatus = attest.PixelStatus
_MAX_DECISIONS = 100_000  # memoised walk decisions per engine (hostile inputs may carry any tag)
_MAX_MEMO = 20_000  # memoised UID remaps / sealed crosswalk records per engine
_MAX_NEEDLE_SETS = 256  # patients whose kept-value identifier answers are remembered per engine
_MAX_FITS_LEN = 4096  # kept values at most this long have their form check remembered
_CODE_MEANING = 0x00080104
_SOP_INSTANCE_UID = 0x00080018
# Media Storage SOP Class UID (0002,0002), Transfer Syntax UID (0002,0010), SOP Class UID (0008,0016)
_META_CLASS_TAGS = (BaseTag(0x00020002), BaseTag(0x00020010), BaseTag(0x00080016))
_RAW_UIDS = True  # UI values remapped from the raw bytes (HeaderEngine._remap_raw_uids); False: converted first

_ID_KEYWORD = re.compile(r"(ID|IDs|Number|Numbers|Identifier)$")
_KIND_BY_KEYWORD = {
    "PatientID": CrosswalkKind.PATIENT_ID,
    "PatientName": CrosswalkKind.PATIENT_NAME,
    "AccessionNumber": CrosswalkKind.ACCESSION,
}


class _Mode(Enum):
    NORMAL = 0
    DUMMY_TEXT = 1  # inside a sequence replaced by D
    CLEAN_TEXT = 2  # inside a sequence cleaned by C


@dataclass
class DeidResult:
    """What one de-identification returns. ``identifiers`` is PHI: memory only."""

    dataset: Dataset
    identifiers: Identifiers
    crosswalk: list[SealedRecord]
    patient_pseudonym: str
    date_shift_days: int | None
    deferred: Deferred | None = None  # de-identified with a FreeTextBatch: complete once it is finished

    def __repr__(self) -> str:
        return f"DeidResult(crosswalk={len(self.crosswalk)} records)"

    def check(self) -> None:
        """Raise what completing this instance's deferred free text raised; an error when its
        :class:`FreeTextBatch` was not finished yet (its deferred values are still removed)."""
        if self.deferred is None:
            return
        if not self.deferred.done:
            raise InputError(Reason.INTERNAL_ERROR, "free text deferred to a batch that was not finished")
        if self.deferred.error is not None:
            raise self.deferred.error


@dataclass
class _Instance:
    """Per-instance state while walking."""

    ids: Identifiers
    shift: int | None
    engine: HeaderEngine
    records: dict[tuple[str, str], SealedRecord] = field(default_factory=dict)
    batch: FreeTextBatch | None = None
    deferred: Deferred | None = None
    view: ScorerView | None = None
    _cleaner: TextCleaner | None = None
    patient_ids: tuple[str, ...] = ()  # the original's patient/visit IDs (deid.header.kept)
    _kept_needles: frozenset[str] | None = None
    _kept_memo: dict[str, bool] | None = None

    @property
    def kept_needles(self) -> frozenset[str]:
        """What a value kept as read must not hold (:mod:`deid.header.kept`), built on first use."""
        if self._kept_needles is None:
            self._kept_needles = kept.patient_needles(self.ids, self.patient_ids)
        return self._kept_needles

    def holds_identifier(self, raw: object) -> bool:
        """:func:`kept.holds_identifier` of a kept value, its answers remembered per needle set by the
        engine (the instances of a patient share the set)."""
        needles = self.kept_needles
        if not needles:
            return False
        if self._kept_memo is None:
            self._kept_memo = self.engine.kept_memo(needles)
        return kept.holds_identifier(raw, needles, self._kept_memo)

    @property
    def cleaner(self) -> TextCleaner:
        """Built on first use: most instances have nothing to clean."""
        if self._cleaner is None:
            scores = self.engine.scores()
            self.view = None if scores is None else ScorerView(scores, collecting=self.batch is not None)
            self._cleaner = TextCleaner(self.ids, self.view, self.engine.profile.free_text,
                                        self.engine.clean_cache)
        return self._cleaner


class HeaderEngine:
    """De-identifies datasets under one profile and key. Thread-safe; build once per worker."""

    def __init__(self, profile: Profile, keys: KeyRing) -> None:
        self.profile = profile
        self.keys = keys
        self.table: ActionTable = build_action_table(profile)
        opts = profile.options
        self._retain_uids = ProfileOption.RETAIN_UIDS in opts
        self._dates_modified = ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in opts
        self._safe = {(s.creator.strip().upper(), s.group, s.element): s for s in profile.safe_private}
        self._safe_elements = {(group, element) for _, group, element in self._safe}
        self._pseudonymize = set(profile.pseudonymize)
        self._scorer: WordScorer | None = None
        self._scores: EngineScores | None = None
        self._scorer_lock = threading.Lock()
        # per mode, (tag, VR as read) -> the dictionary VR to re-read the value as
        # (deid.header.declared_vr), then the action and form check (_decide) under the VR the value
        # is processed as: decided once per engine
        self._decisions: dict[_Mode, dict[tuple[int, str], tuple[str | None, Action | None, bool]]] = {
            mode: {} for mode in _Mode}
        # (VR, value bytes as read) -> deny.standard_value_fits of a kept value (a pure function of
        # both: a study's instances repeat their kept values); bounded, memory only
        self._fits: dict[tuple[str, bytes], bool] = {}
        # (offset, value, VR) -> transform_date's cleaned date (the profile is the engine's); PHI in
        # memory only, bounded like the UID memo
        self._dates: dict[tuple[int | None, str, str], str] = {}
        # keyed results reused across instances (a study's UIDs and identifiers repeat): bounded, PHI
        # in memory only, like the crosswalk records they make
        self._uids: dict[str, str] = {}
        self._sealed: dict[tuple[str, str, str], SealedRecord] = {}
        self._pseudo: dict[tuple[str, str], str] = {}  # (kind, value) -> its pseudonym (_pseudo_id)
        self._shifts: dict[str, int] = {}  # patient key -> date offset (deid.header.dates.shift_for)
        # cleaned free text, reused across instances (deid.header.clean); None: every value cleaned anew
        self.clean_cache: CleanCache | None = CleanCache()
        # answers of the kept-value identifier check (deid.header.kept) per patient needle set, PHI in
        # memory only; ``kept_memos.clear()`` forgets them (as a new export would not repeat them)
        self.kept_memos: dict[frozenset[str], dict[str, bool]] = {}

    def kept_memo(self, needles: frozenset[str]) -> dict[str, bool]:
        """The memo of :func:`kept.holds_identifier` answers for one needle set (bounded)."""
        with self._scorer_lock:
            memo = self.kept_memos.get(needles)
            if memo is None:
                if len(self.kept_memos) >= _MAX_NEEDLE_SETS:
                    self.kept_memos.clear()
                memo = self.kept_memos[needles] = {}
            return memo

    def scorer(self) -> WordScorer | None:
        """The free-text word classifier, loaded on first use (profile ``free_text.detector``)."""
        if self.profile.free_text.detector is not FreeTextDetector.MODEL:
            return None
        with self._scorer_lock:
            if self._scorer is None:
                from deid.header.phi_text import load_scorer

                self._scorer = load_scorer()
                load_word_lists()  # long-lived like the scorer: frozen with it
                _freeze_heap(self._scorer)
            return self._scorer

    def scores(self) -> EngineScores | None:
        """The scorer with the figures of batched passes (:mod:`deid.header.scoring`); the scorer
        itself is loaded on the first text that needs an encoder pass."""
        if self.profile.free_text.detector is not FreeTextDetector.MODEL:
            return None
        with self._scorer_lock:
            if self._scores is None:
                policy = self.profile.free_text
                self._scores = EngineScores(self._scorer, scorer_thresholds(policy.phi_threshold,
                                                                            policy.safe_threshold),
                                            loader=self._load_scorer)
            return self._scores

    def _load_scorer(self) -> WordScorer:
        scorer = self.scorer()
        assert scorer is not None  # scores() is None unless the detector is the model
        return scorer

    def free_text_batch(self) -> FreeTextBatch:
        """A batch to pass to :meth:`deidentify` for many instances; call its ``finish()`` before using
        (or checking, :meth:`DeidResult.check`) any of their results."""
        return FreeTextBatch(self.scores())

    def finish(self, batch: FreeTextBatch) -> None:
        """Score the batch's deferred free text together and complete those values."""
        with quiet_values():
            batch.finish(_input_error)

    # ------------------------------------------------------------------ public API
    def deidentify(self, ds: Dataset, *, in_place: bool = False, batch: FreeTextBatch | None = None) -> DeidResult:
        """De-identify ``ds`` and return the result with its crosswalk records.

        With ``in_place=False`` (default) ``ds`` is left unchanged and a copy is returned: the pipeline
        keeps the original for the pixel stage, which decodes it (pixel data are not touched either way).
        With a ``batch`` (:meth:`free_text_batch`), free-text values whose scorer text is new are removed
        until :meth:`finish` scores the batch's texts together and cleans them (same values as without).
        pydicom's value validation is off inside, as for :func:`deid.dicomio.read_dicom` and
        :meth:`finish` (:func:`deid.dicomio.quiet_values`): its warnings quote values (PHI), and
        validating every converted UID and every replacement cost ~4 % of the engine (issue #11).
        """
        try:
            # deid.dicomio.gc_paused: one instance's objects, no collection meanwhile
            with gc_paused(), quiet_values():
                return self._deidentify(ds, in_place, batch)
        except (ValueError, TypeError, UnicodeError, LookupError, OverflowError, RecursionError) as exc:
            raise _input_error(exc) from None

    def _deidentify(self, ds: Dataset, in_place: bool, batch: FreeTextBatch | None) -> DeidResult:
        ids = collect_identifiers(ds)
        out = ds if in_place else _clone(ds, self._may_keep_private)
        if len(self._shifts) >= _MAX_MEMO:
            self._shifts.clear()
        shift = shift_for(self.keys, self.profile, ds, self._shifts)
        inst = _Instance(ids=ids, shift=shift, engine=self, batch=batch,
                         deferred=None if batch is None else Deferred(), patient_ids=kept.patient_ids(ds))
        if batch is not None and inst.deferred is not None:
            batch.track(inst.deferred)
        self._walk(out, inst)
        self._private(out)
        self._overlays(out)
        deny.clean_file_meta(out)
        self._check_meta_uids(out)
        if self.profile.aggregate_age_over is not None:
            attest.aggregate_age(out, self.profile.aggregate_age_over)
        if _SOP_INSTANCE_UID in out._dict and getattr(out, "file_meta", None) is not None:  # by tag (issue #11)
            out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        pseudonym = self._patient_pseudonym(ds, inst)
        if shift is not None:
            self._record(inst, CrosswalkKind.DATE_SHIFT, patient_key(ds), str(shift))
        return DeidResult(dataset=out, identifiers=ids, crosswalk=list(inst.records.values()),
                          patient_pseudonym=pseudonym, date_shift_days=shift, deferred=inst.deferred)

    def finalize(self, ds: Dataset, pixel_status: attest.PixelStatus) -> bool:
        """Attestation (PS3.15 E.1.1 and X.1): returns whether PatientIdentityRemoved is YES. Python's
        automatic garbage collection is paused inside (:func:`deid.dicomio.gc_paused`), as for
        :meth:`deidentify`: its few new objects are no reason to walk a batch's live datasets (issue #11)."""
        with gc_paused():
            return attest.attest(ds, self.profile, pixel_status)

    def _check_meta_uids(self, out: Dataset) -> None:
        """PS3.10 7.1: the file's SOP class and transfer syntax must be registry UIDs."""
        meta = getattr(out, "file_meta", None)
        for holder in (meta, out):
            if holder is None:
                continue
            for tag in _META_CLASS_TAGS:  # by tag: no keyword look-ups (issue #11)
                if tag in holder._dict:
                    if holder is out and _RAW_UIDS and _registry_as_read(out, tag):
                        continue  # registry UIDs still as read: check_class_uid keeps them (issue #11)
                    deny.check_class_uid(holder[tag], top_level=True)

    # ------------------------------------------------------------------ walking
    def _walk(self, root: Dataset, inst: _Instance) -> None:
        stack: list[tuple[Dataset, _Mode]] = [(root, _Mode.NORMAL)]
        while stack:
            ds, mode = stack.pop()
            decisions = self._decisions[mode]
            held = ds._dict
            for tag in list(held):
                number = int(tag)  # dictionary keys of plain ints: no pydicom BaseTag.__eq__ per look-up
                if deny.illegal_group(number):
                    del ds[tag]  # group 0000, 0002 in the data set, odd 0001-0007, FFFF (PS3.5 7.1)
                    continue
                if (number >> 16) & 1:  # private attributes: handled by _private
                    continue
                vr = element_vr(ds, tag)
                key = (number, vr)
                decision = decisions.get(key)
                if decision is None:
                    declared = declared_vr.mismatched(number, vr)
                    decision = (declared, *self._decide(number, declared or vr, mode))
                    if len(decisions) < _MAX_DECISIONS:
                        decisions[key] = decision
                declared, action, unlisted_kept = decision
                if declared is not None:  # the dictionary VR decides (deid.header.declared_vr)
                    if not declared_vr.retype(ds, tag, declared):
                        continue  # does not decode as what the attribute is: removed
                    vr = declared
                if action is None:
                    if not _RAW_UIDS or not _registry_as_read(ds, tag):
                        deny.check_class_uid(element(ds, tag), top_level=ds is root)
                    continue  # a registry UID identifies no one: kept as read
                if unlisted_kept:
                    read = held[tag]  # ds.get_item(tag): as read, or converted
                    if type(read) is RawDataElement and read.value is None and read.length != 0:
                        read = ds.get_item(tag)  # a deferred value: read by pydicom
                    if vr in deny.FORMED_VRS and not self._value_fits(read, vr):
                        action = Action.X  # text in a fixed-form VR (e.g. written as UN): default deny
                    elif vr in kept.CHECKED_VRS and inst.holds_identifier(read):
                        action = Action.Z  # unlisted, kept, holding the patient's name or ID (deid.header.kept)
                if declared is not None and action is Action.K and vr in TEXT_VRS:
                    action = Action.C  # text the file disguised: never kept unread (PS3.15 E.3.5)
                if action is Action.K and vr != "SQ":
                    continue  # kept as read: never converted, written back byte for byte
                if action is Action.U and vr == "UI" and declared is None and _RAW_UIDS \
                        and self._remap_raw_uids(ds, tag, inst):
                    continue
                if action is Action.Z and declared is None and number not in self._pseudonymize \
                        and replace_raw_value(ds, tag, vr, empty_value(vr)):
                    continue  # emptied as _apply empties it, the dropped value never converted (issue #11)
                self._apply(ds, element(ds, tag), action, mode, inst, stack)

    def _remap_raw_uids(self, ds: Dataset, tag: BaseTag, inst: _Instance) -> bool:
        """Action U on a UI element still as read: its values are read from the raw bytes
        (:func:`deid.dicomio.raw_uid_values`) and the element is made once with the remapped ones (the
        same element and crosswalk records as converting it first, then assigning); False when it is
        no such raw element (then :meth:`_apply` converts it)."""
        values = raw_uid_values(ds, tag)
        if values is None:
            return False
        new = [self._uid(v, inst) for v in values]
        raw = ds._dict[tag]
        assert type(raw) is RawDataElement  # raw_uid_values answers for raw elements only
        ds._dict[tag] = DataElement(tag, "UI", new if len(new) > 1 else new[0], raw.value_tell)
        return True

    def _value_fits(self, raw: object, vr: str) -> bool:
        """:func:`deny.standard_value_fits`, its answers for values still as read remembered per engine."""
        value = getattr(raw, "value", raw) if type(raw) is RawDataElement else None
        if type(value) is not bytes or len(value) > _MAX_FITS_LEN:
            return deny.standard_value_fits(raw, vr)
        key = (vr, value)
        fits = self._fits.get(key)
        if fits is None:
            fits = deny.standard_value_fits(raw, vr)
            _remember(self._fits, key, fits)
        return fits

    def _decide(self, tag: int, vr: str, mode: _Mode) -> tuple[Action | None, bool]:
        """An attribute's action and whether it is an attribute Table E.1-1 does not list that is kept
        (its value must then show its VR's form, PS3.5 6.2, and hold no identifier, deid.header.kept),
        the same for every element of that tag, VR and mode (memoised per engine); action None: a
        class/registry UID attribute, checked against the registry instead."""
        action = self.table.action_for(tag)
        if action is None and vr == "UI" and deny.is_class_uid(keyword_for_tag(tag) or ""):
            return None, False
        if action is not None:
            return action, False
        action = self._unlisted_action(tag, vr, mode)
        return action, action is Action.K

    def _apply(self, ds: Dataset, elem: DataElement, action: Action, mode: _Mode,
               inst: _Instance, stack: list[tuple[Dataset, _Mode]]) -> None:
        vr = elem.VR
        if action is Action.K:
            if vr == "SQ":
                stack.extend((item, mode) for item in elem.value)
            return
        if action is Action.X:
            del ds[elem.tag]
            return
        if vr == "SQ":
            if action is Action.Z:
                elem.value = Sequence()
            else:  # D, C, U: keep the structure, treat what is inside
                child = {Action.D: _Mode.DUMMY_TEXT, Action.C: _Mode.CLEAN_TEXT}.get(action, mode)
                if mode is _Mode.CLEAN_TEXT and child is _Mode.DUMMY_TEXT:
                    child = _Mode.CLEAN_TEXT
                stack.extend((item, child) for item in elem.value)
            return
        if elem.tag in self._pseudonymize and action in (Action.Z, Action.D, Action.C):
            self._pseudonym_element(elem, inst)
            return
        if action is Action.U or vr == "UI":
            elem.value = self._map_values(elem.value, lambda v: self._uid(v, inst))
            return
        if action is Action.Z:
            elem.value = empty_value(vr)
            return
        if action is Action.D:
            self._dummy(elem, inst)
            return
        if int(elem.tag) == _CODE_MEANING:  # (0008,0104), the one tag of keyword CodeMeaning
            self._code_meaning(ds, elem, inst)
            return
        self._clean(elem, inst)  # Action.C

    def _code_meaning(self, item: Dataset, elem: DataElement, inst: _Instance) -> None:
        """Code Meaning (0008,0104): the standard's meaning when PS3.16 knows the code (whatever was
        written is replaced by it), else the free-text cleaner."""
        meaning = deny.standard_meaning(item)
        if meaning is not None:
            elem.value = fit(meaning, "LO")
        else:
            self._clean(elem, inst)

    def _unlisted_action(self, tag: int, vr: str, mode: _Mode) -> Action:
        """Attributes Table E.1-1 does not list. Default deny for text (issue 14 item 3): a text
        value (LO SH ST LT UT UC) is cleaned unless the profile's reviewed keep-list has it, UR and
        UN values are removed; Code Meaning is checked against PS3.16. A kept value of a fixed-form VR
        (CS AS DA TM DT IS DS) that lacks its form is removed by the caller (:func:`deny.standard_value_fits`)."""
        keyword = keyword_for_tag(tag) or ""
        if vr == "UI":
            return Action.K if self._retain_uids else Action.U
        if vr in ("DA", "DT") and self._dates_modified:
            return Action.C
        if vr == "PN":
            return Action.D
        if keyword == "CodeMeaning":
            return Action.C
        if mode is not _Mode.NORMAL and (vr in TEXT_VRS or vr in ("DA", "DT", "TM")) \
                and keyword not in CODED_KEYWORDS:
            return Action.D if mode is _Mode.DUMMY_TEXT else Action.C
        if tag in self.profile.keep_text:
            return Action.K
        if vr in TEXT_VRS:
            return Action.C
        if vr == "UR":
            return Action.Z
        if vr == "UN":
            return Action.X
        return Action.K

    # ------------------------------------------------------------------ replacements
    def _uid(self, value: str, inst: _Instance) -> str:
        value = str(value).strip().rstrip("\x00")
        if not value or is_registry_uid(value):
            return value
        new = self._uids.get(value)
        if new is None:
            new = remap_uid(self.keys, value)
            _remember(self._uids, value, new)
        self._record(inst, CrosswalkKind.UID, value, new)
        return new

    def _pseudo_id(self, kind: str, original: str) -> str:
        """:func:`pseudo_id` (at most 16 characters) under the engine's key, remembered per (kind,
        value): a study's instances repeat their patient's and visit's IDs (one keyed HMAC each, issue
        #11). PHI in memory only, bounded like the UID memo."""
        key = (kind, original)
        new = self._pseudo.get(key)
        if new is None:
            new = pseudo_id(self.keys, kind, original, 16)
            _remember(self._pseudo, key, new)
        return new

    def _pseudo_name(self, original: str) -> str:
        """:func:`pseudo_name` under the engine's key, remembered per value as :meth:`_pseudo_id`."""
        key = ("\x00PN", original)  # no CrosswalkKind value starts with NUL: apart from the IDs
        new = self._pseudo.get(key)
        if new is None:
            new = pseudo_name(self.keys, original)
            _remember(self._pseudo, key, new)
        return new

    def _pseudonym_element(self, elem: DataElement, inst: _Instance) -> None:
        kind = _KIND_BY_KEYWORD.get(elem.keyword or "", CrosswalkKind.OTHER_ID)

        def one(v: Any) -> str:
            original = str(v).strip()
            if not original:
                return ""
            new = self._pseudo_name(original) if elem.VR == "PN" else self._pseudo_id(kind.value, original)
            self._record(inst, kind, original, new)
            return new

        elem.value = self._map_values(elem.value, one)

    def _dummy(self, elem: DataElement, inst: _Instance) -> None:
        vr = elem.VR
        if vr in ("DA", "DT") and self._dates_modified:
            self._clean(elem, inst)
            return
        if vr in ("LO", "SH") and _ID_KEYWORD.search(elem.keyword or "") and elem.value:
            def one(v: Any) -> str:
                original = str(v).strip()
                if not original:
                    return ""
                new = self._pseudo_id(CrosswalkKind.OTHER_ID.value, original)
                self._record(inst, CrosswalkKind.OTHER_ID, original, new)
                return new
            elem.value = self._map_values(elem.value, one)
            return
        elem.value = dummy_value(vr)

    def _clean(self, elem: DataElement, inst: _Instance) -> None:
        vr = elem.VR
        if vr in ("DA", "DT"):
            elem.value = self._map_values(elem.value, lambda v: self._date(str(v), vr, inst))
        elif vr == "TM":
            return  # whole-day shifts leave times valid (PS3.15 E.3.6); nothing to clean
        elif vr == "PN":
            elem.value = self._map_values(elem.value, lambda v: self._pseudo_name(str(v)) if str(v) else "")
        elif vr in TEXT_VRS:
            self._clean_text(elem, inst)
        elif vr == "AS" and self.profile.aggregate_age_over is not None:
            return
        # numeric, coded (CS) and binary values carry no free text: kept

    def _clean_text(self, elem: DataElement, inst: _Instance) -> None:
        """Clean Descriptors (PS3.15 E.3.5) of each text value; with a batch, a value whose scorer text
        is new is removed until the batch is finished, then cleaned again with the batch's figures."""
        vr, value, cleaner = elem.VR, elem.value, inst.cleaner
        view = inst.view

        def cleaned() -> Any:
            return self._map_values(value, lambda v: fit(cleaner.clean(str(v)), vr))

        before = len(view.missing) if view is not None else 0
        new = cleaned()
        if view is None or inst.batch is None or inst.deferred is None or len(view.missing) == before:
            elem.value = new
            return
        texts = view.missing[before:]
        elem.value = self._map_values(value, lambda v: "")  # removed (default deny) until scored

        def complete() -> None:
            view.collecting = False
            elem.value = cleaned()

        inst.batch.add(texts, complete, inst.deferred)

    def _date(self, value: str, vr: str, inst: _Instance) -> str:
        """:func:`transform_date` under the engine's profile, remembered per (offset, value, VR)."""
        key = (inst.shift, value, vr)
        new = self._dates.get(key)
        if new is None:
            new = transform_date(self.profile, inst.shift, value, vr)
            _remember(self._dates, key, new)
        return new

    @staticmethod
    def _map_values(value: Any, fn: Any) -> Any:
        if isinstance(value, (list, MultiValue)):
            return [fn(v) for v in value]
        if value is None:
            return value
        return fn(value)

    def _record(self, inst: _Instance, kind: CrosswalkKind, original: str, pseudonym: str) -> None:
        key = (kind.value, original)
        if key not in inst.records:
            sealed = self._sealed.get((kind.value, original, pseudonym))
            if sealed is None:  # seal() is deterministic: a study's repeated values are sealed once
                sealed = seal(self.keys, kind, original, pseudonym)
                _remember(self._sealed, (kind.value, original, pseudonym), sealed)
            inst.records[key] = sealed

    def _patient_pseudonym(self, original: Dataset, inst: _Instance) -> str:
        pid = str(original.get("PatientID", "") or "").strip()
        if pid:
            return self._pseudo_id(CrosswalkKind.PATIENT_ID.value, pid)
        key = patient_key(original)
        new = self._pseudo_id(CrosswalkKind.PATIENT_ID.value, key)
        return new

    # ------------------------------------------------------------------ private, overlays
    def _may_keep_private(self, tag: int) -> bool:
        """False for a private data element that :meth:`_private` removes whatever its value and
        creator: no per-tag override K, and no Retain Safe Private entry (E.3.10) for its group and
        element (any creator). Creators and (gggg,0000-00FF) are always left to :meth:`_private`."""
        element = tag & 0xFFFF
        if element <= 0x00FF or self.table.overrides.get(tag) is Action.K:
            return True
        return self.table.private is Action.C and (tag >> 16, element & 0xFF) in self._safe_elements

    def _private(self, root: Dataset) -> None:
        """Private Attributes row of Table E.1-1: X, or C under Retain Safe Private (E.3.10)."""
        keep_safe = self.table.private is Action.C
        stack = [root]
        while stack:
            ds = stack.pop()
            if not any((t >> 16) & 1 or deny.illegal_group(t) for t in ds._dict):
                # no private (odd group) nor illegal tag: nothing to remove here, only items to visit
                # (what the loops below do for such a data set, without their look-ups; issue #11)
                for tag in list(ds._dict):
                    if element_vr(ds, tag) == "SQ":
                        stack.extend(element(ds, tag).value)
                continue
            creators: dict[tuple[int, int], str] = {}
            for tag in list(ds.keys()):
                group, el = tag >> 16, tag & 0xFFFF
                if group & 1 and 0x0010 <= el <= 0x00FF:
                    creators[(group, el)] = str(element(ds, tag).value or "").strip().upper()
            used: set[tuple[int, int]] = set()
            for tag in list(ds.keys()):
                group, el = tag >> 16, tag & 0xFFFF
                if deny.illegal_group(int(tag)):
                    del ds[tag]
                    continue
                if not group & 1:
                    if element_vr(ds, tag) == "SQ":
                        stack.extend(element(ds, tag).value)
                    continue
                elem = element(ds, tag)
                if 0x0010 <= el <= 0x00FF or el < 0x0010:
                    continue  # creators decided below; (gggg,0000-000F) are illegal and dropped
                block = (group, el >> 8)
                creator = creators.get(block, "")
                override = self.table.overrides.get(int(tag))
                spec = self._safe.get((creator, group, el & 0xFF)) if keep_safe else None
                safe = spec is not None and deny.private_value_fits(elem, spec.vr, spec.vm, spec.values)
                if override is Action.K or (safe and override is None):
                    used.add(block)
                    if elem.VR == "SQ":
                        stack.extend(elem.value)
                    continue
                del ds[tag]
            for tag in list(ds.keys()):
                group, el = tag >> 16, tag & 0xFFFF
                if group & 1 and group > 0x0008 and el <= 0x00FF and (group, el) not in used:
                    del ds[tag]

    def _overlays(self, ds: Dataset) -> None:
        """When Overlay Data (60xx,3000) was removed, drop the rest of that overlay group too."""
        held = ds._dict
        for tag in [t for t in held if 0x6000 <= t >> 16 < 0x6020 and not (t >> 16) & 1
                    and ((t >> 16) << 16 | 0x3000) not in held]:  # one pass over the top level's tags
            del ds[tag]


def _registry_as_read(ds: Dataset, tag: BaseTag) -> bool:
    """A class/registry UID element still as read (explicit VR UI, little endian) whose values are all
    registry UIDs (or empty) and whose bytes are those the writer makes of its converted value (the
    values joined by backslashes, a NUL padding an odd length): :func:`deny.check_class_uid` would
    keep it and writing it as read gives the same bytes, so it is left unconverted (issue #11).
    False: converted and checked by :func:`deny.check_class_uid`."""
    raw = ds._dict[tag]
    if type(raw) is not RawDataElement or raw.VR != "UI" or ds.original_encoding != (False, True):
        return False
    values = raw_uid_values(ds, tag)
    if values is None or not all(not v or is_registry_uid(v) for v in values):
        return False
    text = "\\".join(values)
    return raw.value == (text + "\0" * (len(text) % 2)).encode("iso8859")


_FROZEN: set[int] = set()  # the scorers (one per model folder, cached by phi_text) already frozen


def _freeze_heap(scorer: object) -> None:
    """Once per loaded scorer, move every object alive now (the scorer model, torch's and the
    tokenizer's modules: ~400k objects) out of the garbage collector's reach: they live as long as
    the worker, and each full collection (every few hundred instances) otherwise walked them all
    (~0.3 s). Garbage found now is collected first; objects made later are collected as usual
    (``gc.freeze``, Python 3.7+)."""
    if id(scorer) in _FROZEN:
        return
    _FROZEN.add(id(scorer))
    gc.collect()
    gc.freeze()


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    """Store in a per-engine memo, emptied when it holds :data:`_MAX_MEMO` entries."""
    if len(cache) >= _MAX_MEMO:
        cache.clear()
    cache[key] = value


def _input_error(exc: Exception) -> Exception:
    """What a value the engine cannot process means for the instance (an :class:`InputError`)."""
    if isinstance(exc, RecursionError):
        return InputError(Reason.TOO_DEEP, "sequences are nested too deeply to process safely")
    if isinstance(exc, (ValueError, TypeError, UnicodeError, LookupError, OverflowError)):
        return InputError(Reason.INVALID_VALUE, f"an attribute value cannot be decoded ({exc.__class__.__name__})")
    return exc


def _clone(ds: Dataset, may_keep_private: Callable[[int], bool] = lambda tag: True) -> Dataset:
    """Copy the dataset structure: new datasets and sequences, shared (immutable) element values;
    elements not yet converted from the file's bytes are shared as read (converting one later makes a
    new element in the copy only).

    The engine only ever assigns new values, never mutates one in place, so sharing values (pixel
    bytes, long numeric arrays) is safe and far cheaper than ``copy.deepcopy``.
    """
    root = _shell(ds)
    if getattr(ds, "file_meta", None) is not None:
        root.file_meta = _copy_meta(ds.file_meta)
    root.preamble = getattr(ds, "preamble", None)
    stack: list[tuple[Dataset, Dataset]] = [(ds, root)]
    while stack:
        src, dst = stack.pop()
        held = dst._dict
        for tag, raw in list(src._dict.items()):  # in tag order: Specific Character Set and private creators first
            private = (tag >> 16) & 1
            if private and not may_keep_private(tag):
                continue  # removed by the engine's _private whatever its value: never copied nor converted
            if type(raw) is RawDataElement and not private and raw.length != 0xFFFFFFFF \
                    and (raw.value is not None or not raw.length) \
                    and (raw.VR in _PLAIN_VRS or _not_sequence(src, tag, raw)):
                held[tag] = raw  # an immutable tuple, shared and left unconverted (kept values are written as read)
                continue
            raw = src.get_item(tag)
            if isinstance(raw, RawDataElement) and raw.length != 0xFFFFFFFF and _not_sequence(src, tag, raw):
                dst[tag] = raw  # a private element: pydicom converts it when its creator is there
                continue
            elem = element(src, tag)
            if elem.VR == "SQ":
                items = []
                for item in elem.value:
                    child = _shell(item)
                    items.append(child)
                    stack.append((item, child))
                dst.add(DataElement(elem.tag, "SQ", Sequence(items)))
            elif (tag >> 16) & 1 or type(elem) is not DataElement or type(tag) is not BaseTag \
                    or elem.tag is not tag and elem.tag != tag:
                dst.add(copied_element(elem))  # private: pydicom's __setitem__ records its creator
            else:
                held[tag] = copied_element(elem)  # what Dataset.__setitem__ does for a public non-sequence element
    return root


_SHELL_ATTRS = ("_is_little_endian", "_is_implicit_VR", "_read_charset", "_read_implicit", "_read_little",
                "_parent_encoding")
def _shell(src: Dataset) -> Dataset:
    """An empty :class:`Dataset` with ``src``'s encoding attributes: ``Dataset()`` then those set, as
    one dictionary update (pydicom's ``__setattr__`` per attribute costs more than the walk)."""
    new = blank_dataset()
    attrs = new.__dict__
    held = src.__dict__
    for attr in _SHELL_ATTRS:
        if attr in held:
            attrs[attr] = held[attr]
    return new


# explicit VRs that are neither a sequence, UN nor ambiguous: what _not_sequence answers True for without
# a look-up, asked first as one set membership (issue #11)
_PLAIN_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF",
                        "OL", "OV", "OW", "PN", "SH", "SL", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UR", "US",
                        "UT", "UV"})


def _not_sequence(ds: Dataset, tag: BaseTag, raw: RawDataElement) -> bool:
    """A raw element that is not a sequence: its own explicit VR when it has one (no dictionary look-up)."""
    vr = raw.VR
    if vr is not None and vr not in ("SQ", "UN") and " or " not in vr:
        return True
    return raw_vr(ds, tag) != "SQ"


def _copy_meta(meta: FileMetaDataset) -> FileMetaDataset:
    """The file meta group (PS3.10 7.1) as a new dataset of copied elements: its few values are
    strings and bytes, replaced (never changed in place) when the file is written."""
    if type(meta) is not FileMetaDataset:
        return copy.deepcopy(meta)  # type: ignore[unreachable]
    out = blank_file_meta()
    held = out._dict
    try:
        for tag in list(meta.keys()):
            elem = meta.get_item(tag)
            if type(elem) is DataElement and type(tag) is BaseTag and tag >> 16 == 2 and elem.VR != "SQ" \
                    and (elem.tag is tag or elem.tag == tag):
                held[tag] = copied_element(elem)  # what FileMetaDataset.__setitem__ stores (issue #11)
            else:
                out[tag] = copy.copy(elem)
    except (ValueError, TypeError, KeyError):  # not a well-formed group 0002: copied whole, as before
        return copy.deepcopy(meta)
    for attr in ("_is_little_endian", "_is_implicit_VR", "_read_charset", "_read_implicit", "_read_little"):
        if hasattr(meta, attr):
            object.__setattr__(out, attr, getattr(meta, attr))
    return out


