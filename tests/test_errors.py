"""The one error tree: stable codes (they appear in messages operators search for) and exit codes."""

from __future__ import annotations

import pytest

from deid import errors


@pytest.mark.parametrize(("cls", "code", "exit_code"), [
    (errors.DeidError, "DEID_ERROR", 2),
    (errors.ConfigError, "CONFIG_ERROR", 2),
    (errors.KeyMaterialError, "KEY_MATERIAL_ERROR", 2),
    (errors.InputError, "INPUT_ERROR", 2),
    (errors.PixelError, "PIXEL_ERROR", 2),
    (errors.TableIOError, "TABLE_IO_ERROR", 2),
    (errors.QualityGateError, "QUALITY_GATE_FAILED", 2),
    (errors.ZoneError, "ZONE_ERROR", 2),
    (errors.CryptoError, "CRYPTO_ERROR", 2),
    (errors.SqlFileError, "SQL_FILE_ERROR", 2),
    (errors.SqlStatementError, "SQL_STATEMENT_FAILED", 1),
])
def test_codes_and_exit_codes(cls: type[errors.DeidError], code: str, exit_code: int) -> None:
    assert (cls.code, cls.exit_code) == (code, exit_code)


def test_input_errors_carry_their_reason() -> None:
    err = errors.PixelError(errors.Reason.PIXEL_DECODE_FAILED, "frame 2 cannot be decoded")
    assert isinstance(err, errors.InputError) and err.reason is errors.Reason.PIXEL_DECODE_FAILED
    assert str(err) == err.message == "PIXEL_DECODE_FAILED: frame 2 cannot be decoded"
