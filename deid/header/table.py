"""PS3.15 Table E.1-1 as data, resolved into one action per attribute for a profile.

The table ships inside the package (``deid/standard/ps3.15-table-E.1-1.json``, edition 2024b, see
PROVENANCE.md). Rows are keyed by tag; four wildcard rows are matched by pattern: Curve Data
``(50xx,xxxx)``, Overlay Data ``(60xx,3000)``, Overlay Comments ``(60xx,4000)`` (repeating groups,
PS3.5 7.6) and Private Attributes ``(gggg,eeee)`` with odd ``gggg`` (PS3.5 7.8).

Resolution order for one attribute (PS3.15 E.1 and E.3):
1. the profile's per-tag ``overrides``;
2. the option columns of the row for every option the profile enables: for DA/DT/TM attributes
   the temporal option decides (a calibration date shifts with the study dates even under Retain
   Device Identity); otherwise a ``K`` from any option wins over a ``C``, which wins over the Basic
   Profile code;
3. the Basic Profile code, with conditional codes resolved per :class:`ConditionalResolution`.
4. a C (clean) left on a binary value (OB OW OF OD OL OV UN: Overlay Data (60xx,3000), Curve Data
   (50xx,3000), Audio Sample Data (50xx,200C), Maker Note, Certified Timestamp ...) becomes X: the engine
   cleans text, dates and names only, and a bitmap or byte string cannot be cleaned in place. PS3.15
   E.3.3 (Clean Graphics Option) cleans identifying information out of graphics (overlays, curves); a
   graphic that cannot be cleaned is removed, as the Basic Profile does (X).
Attributes not in the table are kept (PS3.15 E.1: only listed attributes are acted on), with the
documented exceptions in :mod:`deid.header.engine` (UIDs that are not registry UIDs, dates under a
date-shift option, private elements).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from pydicom.datadict import dictionary_VR

from deid.header.profile import Action, ConditionalResolution, Profile, ProfileOption


@dataclass(frozen=True)
class TableRow:
    name: str
    tag: str
    basic: str
    options: dict[str, str]

    @property
    def tag_int(self) -> int | None:
        """Integer tag for plain rows; None for wildcard rows."""
        text = self.tag.strip("()").replace(",", "")
        try:
            return int(text, 16)
        except ValueError:
            return None


@lru_cache(maxsize=1)
def load_table() -> tuple[TableRow, ...]:
    """The 621 rows of Table E.1-1 from the package's own copy."""
    raw = resources.files("deid.standard").joinpath("ps3.15-table-E.1-1.json").read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(raw)
    cols = {o.column for o in ProfileOption}
    return tuple(
        TableRow(name=r["name"], tag=r["tag"], basic=r["basicProfile"],
                 options={k: v for k, v in r.items() if k in cols})
        for r in rows
    )


def resolve_code(code: str, resolution: ConditionalResolution, vr: str | None) -> Action:
    """Resolve a Table E.1-1 code (possibly conditional, e.g. ``X/Z/D``) to one action."""
    code = code.strip()
    if "/" not in code:
        return Action(code)
    parts = [p.rstrip("*") for p in code.split("/")]
    if resolution is ConditionalResolution.STRICT:
        return Action(parts[0])
    if "U" in parts:  # X/Z/U*: keep the sequence, replace the UIDs inside it
        return Action.U
    if parts == ["X", "D"]:
        return Action.D
    dummy_needed = vr in ("UI", "SQ", "DA", "DT", "TM")
    if "Z" in parts:
        return Action.D if ("D" in parts and dummy_needed) else Action.Z
    return Action(parts[-1])


_OPTION_PRIORITY = {Action.K: 0, Action.C: 1}
# Value representations holding bytes or numbers the engine's clean (C) cannot read as text (PS3.5 6.2).
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "OB or OW", "US or OW", "US or SS or OW"})
# Curve group elements (50xx,eeee) holding binary values: Audio Sample Data, Curve Data (PS3.3 retired).
_CURVE_BINARY = frozenset({0x200C, 0x3000})


def binary_clean_removed(action: Action, vr: str | None) -> Action:
    """X for a C on a binary value (module docstring, step 4); any other action as it is."""
    return Action.X if action is Action.C and vr in BINARY_VRS else action

_TEMPORAL = {ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES.column,
             ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES.column}


@dataclass(frozen=True)
class ActionTable:
    """Resolved actions for one profile: ``action_for(tag, vr)``."""

    by_tag: dict[int, Action]
    curve: Action
    overlay_data: Action
    overlay_comments: Action
    private: Action
    overrides: dict[int, Action]

    def action_for(self, tag: int) -> Action | None:
        """The action for an attribute, or None when Table E.1-1 does not list it."""
        if tag in self.overrides:
            return self.overrides[tag]
        if tag in self.by_tag:
            return self.by_tag[tag]
        group, elem = tag >> 16, tag & 0xFFFF
        if group & 1:
            return self.private
        if 0x5000 <= group <= 0x501E and not group & 1:
            return binary_clean_removed(self.curve, "OB") if elem in _CURVE_BINARY else self.curve
        if 0x6000 <= group <= 0x601E and not group & 1:
            if elem == 0x3000:
                return self.overlay_data
            if elem == 0x4000:
                return self.overlay_comments
        return None


def build_action_table(profile: Profile) -> ActionTable:
    """Apply the profile's options and conditional resolution to every row of Table E.1-1."""
    by_tag: dict[int, Action] = {}
    wild: dict[str, Action] = {}
    enabled = [o.column for o in profile.options]
    for row in load_table():
        tag = row.tag_int
        vr = _vr(tag) if tag is not None else None
        action = resolve_code(row.basic, profile.conditional, vr)
        chosen = [Action(row.options[c]) for c in enabled if c in row.options]
        temporal = [Action(row.options[c]) for c in enabled if c in row.options and c in _TEMPORAL]
        if temporal and vr in ("DA", "DT", "TM"):
            chosen = temporal  # a date follows the temporal option, even if another option keeps it
        if chosen:
            action = min(chosen, key=lambda a: _OPTION_PRIORITY.get(a, 9))
        if tag is None:
            wild[row.tag.upper()] = action
        else:
            by_tag[tag] = binary_clean_removed(action, vr)
    private = next(a for k, a in wild.items() if k.startswith("(GGGG"))
    return ActionTable(
        by_tag=by_tag,
        curve=wild["(50XX,XXXX)"],
        overlay_data=binary_clean_removed(wild["(60XX,3000)"], "OB or OW"),
        overlay_comments=wild["(60XX,4000)"],
        private=private,
        overrides={t: binary_clean_removed(a, _vr(t)) for t, a in profile.overrides.items()},
    )


def _vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None
