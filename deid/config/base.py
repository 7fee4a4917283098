"""Where configuration lives and how a YAML file or a mapping becomes a validated model.

Every configuration model (pipeline, pixel stage, quality gate, header profile) is read through
:func:`load_model`: unknown keys and bad values become one :class:`deid.errors.ConfigError` that names
the key and what is allowed, never the value given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from deid.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class FrozenModel(BaseModel):
    """Base of the pipeline's configuration models: no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def conf_dir() -> Path:
    """The configuration folder: the copy packaged in a wheel (``deid/_conf``), else the checkout's ``conf/``."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_conf"
    return packaged if packaged.is_dir() else package.parent / "conf"


def describe(exc: ValidationError, prefix: str = "") -> str:
    """``key 'a.b': message; ...`` for every error (pydantic's messages quote no input value here)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"key '{prefix + loc if loc else prefix.rstrip('.') or '(top level)'}': {err['msg']}")
    return "; ".join(parts)


def read_yaml(path: str | Path, what: str = "configuration file") -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file is an empty mapping)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} '{p.name}' not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{what} {p.name}: not valid YAML ({exc.__class__.__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {p.name}: expected a mapping at the top level")
    return data


def load_model(model: type[M], source: Mapping[str, Any] | str | Path, *, name: str | None = None,
               what: str = "configuration file", prefix: str = "") -> M:
    """Validate a mapping (or read a YAML file) into ``model``; every failure is a ConfigError.

    ``name`` is what messages call the source (default: the file name); ``prefix`` is put before
    every key path (``quality.`` for a section read on its own).
    """
    if isinstance(source, Mapping):
        data, label = dict(source), name or "config"
    else:
        data, label = read_yaml(source, what), name or Path(source).name
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{label}: {describe(exc, prefix)}") from None
