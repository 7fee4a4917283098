from __future__ import annotations

import pytest

from deid.header.engine import HeaderEngine
from deid.header.profile import Profile, ProfileOption, load_profile
from deid.keys import KeyRing


@pytest.fixture(scope="session")
def keys(test_keyring: KeyRing) -> KeyRing:
    return test_keyring


@pytest.fixture(scope="session")
def basic_engine(keys: KeyRing) -> HeaderEngine:
    return HeaderEngine(load_profile("basic"), keys)


@pytest.fixture(scope="session")
def research_engine(keys: KeyRing) -> HeaderEngine:
    return HeaderEngine(load_profile("research"), keys)


@pytest.fixture(scope="session")
def engine_with(keys: KeyRing):  # type: ignore[no-untyped-def]
    """Factory: an engine for the Basic Profile plus the given options (cached)."""
    cache: dict[frozenset[ProfileOption], HeaderEngine] = {}

    def make(*options: ProfileOption) -> HeaderEngine:
        opts = frozenset(options)
        if opts not in cache:
            cache[opts] = HeaderEngine(Profile(name="test", options=opts, pseudonymize=[
                "PatientID", "PatientName", "AccessionNumber"]), keys)
        return cache[opts]

    return make
