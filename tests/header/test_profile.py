from __future__ import annotations

from pathlib import Path

import pytest

from deid.errors import ConfigError
from deid.header.profile import ProfileOption, load_profile


@pytest.mark.parametrize("name", ["basic", "research", "hipaa-safe-harbor"])
def test_named_profiles_load(name: str) -> None:
    assert load_profile(name).name == name


def test_research_profile_options() -> None:
    p = load_profile("research")
    assert {ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES, ProfileOption.RETAIN_PATIENT_CHARACTERISTICS,
            ProfileOption.RETAIN_DEVICE_IDENTITY, ProfileOption.CLEAN_DESCRIPTORS,
            ProfileOption.RETAIN_SAFE_PRIVATE} <= p.options
    assert ProfileOption.RETAIN_UIDS not in p.options
    assert p.safe_private


def test_hipaa_profile_explains_all_18_identifiers() -> None:
    text = (Path(__file__).resolve().parents[2] / "conf/profiles/hipaa-safe-harbor.yaml").read_text()
    for letter in "ABCDEFGHIJKLMNOPQR":
        assert f"({letter})" in text
    assert load_profile("hipaa-safe-harbor").aggregate_age_over == 89


@pytest.mark.parametrize(("body", "names"), [
    ("name: x\nopshuns: []\n", "opshuns"),
    ("name: x\noptions: [retain_everything]\n", "options"),
    ("name: x\nconditional: maybe\n", "conditional"),
    ("name: x\noverrides: {NotAKeyword: X}\n", "overrides"),
    ("name: x\noverrides: {PatientName: Q}\n", "overrides"),
    ("name: x\ndate_shift: {min_days: -5, max_days: 5}\n", "date_shift"),
    ("name: x\noptions: [retain_longitudinal_full_dates, retain_longitudinal_modified_dates]\n", "exclude"),
    ("- just a list\n", "mapping"),
    ("name: [unclosed\n", "YAML"),
])
def test_bad_profiles_name_the_key(tmp_path: Path, body: str, names: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=names):
        load_profile(path)


def test_unknown_profile_lists_known() -> None:
    with pytest.raises(ConfigError, match="research"):
        load_profile("no-such-profile")
