"""THE test key (hex): every test that needs a key uses this one (``deid_key``/``test_keyring`` fixtures
in tests/conftest.py, or this constant where a module needs it at import time)."""

TEST_KEY = "8f1c2e3d4a5b69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
