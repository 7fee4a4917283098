"""The PHI classifier's training data (scripts/phi_training_lines.py): what each source teaches."""

from __future__ import annotations

import pytest

from deid.pixels.classify import extract_dates, numeric_identifier


@pytest.fixture(scope="module")
def tr():  # type: ignore[no-untyped-def]
    import phi_training_lines

    return phi_training_lines


def test_focus_lines_are_addresses_and_initials_labelled_phi(tr) -> None:  # type: ignore[no-untyped-def]
    data = tr.focus_lines(300, 1)
    assert len(data) == 300 and all(any(labels) for _, labels in data)
    phi_words = [[w for w, lab in zip(words, labels, strict=True) if lab] for words, labels in data]
    assert not {w.rstrip(":") for ws in phi_words for w in ws} & {"Addr", "Address", "Op", "Tech", "Sono"}
    initials = sum(len("".join(ws).replace(".", "")) <= 3 for ws in phi_words)  # "JK", "J. K.", "jkl"
    addresses = sum(any(c.isdigit() for c in "".join(ws)) for ws in phi_words)  # house numbers, postcodes
    assert initials >= 50 and addresses >= 100


@pytest.mark.parametrize("seed", [2, 3])
def test_parameter_lines_are_technical_negatives(tr, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Scanner/display parameter lines hold no date or identifier: the model must never learn that one is
    not PHI."""
    data = tr.parameter_lines(400, seed)
    assert len(data) == 400 and not any(any(labs) for _, labs in data)
    for words, _ in data:
        text = " ".join(words)
        assert not extract_dates(text) and not numeric_identifier(text), text


def test_institution_generic_words_are_not_phi_words(tr) -> None:  # type: ignore[no-untyped-def]
    """"<city> General Hospital": the city is the PHI word; "Imaging" alone must not be learned as PHI."""
    seen = 0
    for words, labels in tr.lines("train", 1500, 13):
        for w, lab in zip(words, labels, strict=True):
            if w in tr.INSTITUTION_WORDS:
                seen += 1
                assert lab == 0
    assert seen > 20


def test_focus_locales_apart_from_evaluation(tr) -> None:  # type: ignore[no-untyped-def]
    import make_eval_pixels as ev

    assert not set(tr.FOCUS_LOCALES) & (set(ev.EVAL_LOCALES) | set(tr.HELDOUT_LOCALES))


def test_word_lines_are_plain_word_negatives_apart_from_evaluation(tr) -> None:  # type: ignore[no-untyped-def]
    """Plain-word negatives (issue #12): no date, identifier or name word, and no evaluation code meaning."""
    import make_eval_pixels as ev

    from deid.pixels.lexicon import name_words

    data = tr.word_lines(600, 5)
    assert len(data) == 600 and not any(any(labs) for _, labs in data)
    banned = {m.upper() for m in ev.clinical_vocabulary()}
    names = name_words()
    for words, _ in data:
        text = " ".join(words)
        assert not extract_dates(text) and not numeric_identifier(text), text
        assert " ".join(text.upper().split()) not in banned, text
        assert not {w.lower() for w in words if w.isalpha() and len(w) >= 4} & names, text
