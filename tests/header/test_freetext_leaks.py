"""PHI spans the cleaner left on free-text dev seeds 81-89 (issue 13, item 1), eleventh session, each
by a rule about its shape or context, not its words:

* a capitalised word before a masked house number and a number sign ("Boulevard 5 N° 6351");
* a word holding DICOM component separators ("Common^St. James^^2611", PS3.5 6.2);
* the last part of a name after a particle ("Mar del Plata 7600") is no sentence-case term;
* in mixed case, capitals right after a masked address in capitals ("..., AQUAMARINE HOMES 2");
* a lower-case function word stranded after "checked with" / "read by" ("checked with at.").

The clinical cases next to them must stay whole."""

from __future__ import annotations

import pytest
from freetext_stub import assert_removed, clean, words


@pytest.mark.parametrize(("text", "phi"), [
    ("Boulevard 5 N° 6351, Río Gallegos 58810793", ("Boulevard",)),
    ("Diagonal 9 N° 394, Ushuaia 9410, Tierra del Fuego", ("Diagonal", "Ushuaia")),
    ("Lives at 078 Rhodes Common^St. James^^2611", ("James", "2611", "Rhodes")),
    ("seen; lives alone at 078 Rhodes Common^St. Kilda^^2611", ("Kilda", "2611")),
    ("Moved to Calle 3 N° 4296 Oficina 11, Mar del Plata 7600, Buenos Aires last month", ("Plata", "7600")),
    ("c/o daughter, BLOCK 08 LOT 05 MORGAN SERVICE ROAD, AQUAMARINE HOMES 2", ("AQUAMARINE",)),
    ("SSN A71-472544 on request form does not match, checked with at.", ("at",)),
    ("Read by on.", ("on",)),
])
def test_phi_left_on_dev_seeds_is_removed(text: str, phi: tuple[str, ...]) -> None:
    assert_removed(text, phi)


@pytest.mark.parametrize("text", [
    "WBC 10^9/L, area 4 mm^2",
    "Stage 2 N3 disease",
    "Grade 3 lesion",
    "checked with me.",
    "Discussed at length with the patient.",
    "Lives alone; CT HEAD normal",
    "Image 2 No. 3 reviewed",
])
def test_clinical_text_next_to_these_shapes_stays(text: str) -> None:
    cleaned, _ = clean(text)
    assert words(cleaned) == words(text), cleaned
