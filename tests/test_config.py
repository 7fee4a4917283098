"""deid.config: every shipped file loads, errors name the key (never the value), one conf_dir()."""

from __future__ import annotations

from pathlib import Path

import pytest

from deid.config import (
    DeidConfig,
    KeySource,
    PixelConfig,
    QualityConfig,
    conf_dir,
    config_from_mapping,
    default_config_path,
    load_config,
    load_model,
)
from deid.errors import ConfigError
from deid.header.profile import load_profile
from deid.keys import keyring_for

REPO = Path(__file__).resolve().parents[1]


def test_conf_dir_is_the_checkouts_conf() -> None:
    assert conf_dir() == REPO / "conf"
    assert default_config_path() == REPO / "conf" / "local.yaml"


@pytest.mark.parametrize("name", ["local.yaml", "databricks.yaml", "emr.yaml"])
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(conf_dir() / name)
    assert isinstance(cfg.pixels, PixelConfig) and isinstance(cfg.quality, QualityConfig)


def test_local_yaml_spells_out_the_defaults_of_pixels_and_quality() -> None:
    cfg = load_config()
    assert cfg.quality == QualityConfig()
    assert cfg.pixels.ocr == PixelConfig().ocr


@pytest.mark.parametrize(("data", "key"), [
    ({"zones": {"outptu": "/x"}}, "zones.outptu"),
    ({"spark": {"shuffle_partitions": 0}}, "spark.shuffle_partitions"),
    ({"keys": {"source": "vault"}}, "keys.source"),
    ({"pixels": {"review_band": [0.9, 0.1]}}, "pixels"),
    ({"pixels": {"ocr": {"engine": "tesseract"}}}, "pixels.ocr.engine"),
    ({"pixels": {"ocr": {"small_text_scale": 0.5}}}, "pixels.ocr.small_text_scale"),
    ({"quality": {"suites": ["metadata", "bronze"]}}, "unknown suites"),
    ({"quality": {"verification": {"ocr": {"sample_fraction": 2}}}}, "quality.verification.ocr.sample_fraction"),
    ({"nonsense": 1}, "key 'nonsense'"),
])
def test_errors_name_the_key(data: dict, key: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_mapping(data)


@pytest.mark.parametrize("scale", [0.0, 1.0, 2.0, 4.0])
def test_small_text_scale_is_off_or_an_enlargement(scale: float) -> None:
    assert config_from_mapping({"pixels": {"ocr": {"small_text_scale": scale}}}).pixels.ocr.small_text_scale == scale


@pytest.mark.parametrize("scale", [0.01, 0.5, 0.99])
def test_small_text_scale_under_one_says_what_is_allowed(scale: float) -> None:
    with pytest.raises(ConfigError, match=r"pixels\.ocr\.small_text_scale'.*0 \(off\) or at least 1"):
        config_from_mapping({"pixels": {"ocr": {"small_text_scale": scale}}})


def test_errors_never_quote_the_value() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"zones": {"output": {"DOE^JOHN": 1}}})
    assert "DOE" not in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    (None, "configuration file 'absent.yaml' not found"),
    ("zones: [unclosed\n", "not valid YAML"),
    ("- a list\n", "expected a mapping at the top level"),
])
def test_files_that_cannot_be_used(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "absent.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path) == DeidConfig()


def test_load_model_prefixes_keys_and_names_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^gate: key 'quality\.enabled'"):
        load_model(QualityConfig, {"enabled": "sometimes"}, name="gate", prefix="quality.")


def test_profiles_are_read_the_same_way(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("name: p\noptions: [retain_everything]\n")
    with pytest.raises(ConfigError, match=r"^profile p\.yaml: key 'options"):
        load_profile(bad)
    assert load_profile("research").name == "research"


def test_hash_ignores_locations_and_overrides_replace_only_what_is_given() -> None:
    cfg = load_config()
    moved = cfg.with_overrides(output="/elsewhere", raw=None)
    assert moved.zones.output == "/elsewhere" and moved.zones.raw == cfg.zones.raw
    assert moved.config_hash() == cfg.config_hash()
    assert cfg.model_copy(update={"profile": "basic"}).config_hash() != cfg.config_hash()
    assert cfg.with_overrides() is cfg


def test_keys_section_reads_the_key_from_its_source(deid_key: str) -> None:
    cfg = load_config()
    assert cfg.keys.source is KeySource.ENV
    assert keyring_for(cfg.keys).master == bytes.fromhex(deid_key)
