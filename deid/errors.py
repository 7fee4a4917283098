"""The one error tree of the package.

Every message is written for an operator and is free of PHI: it names attributes by tag or keyword,
files by their position or hash, never by a value read from a DICOM file.
"""

from __future__ import annotations

import re
from enum import Enum


class Reason(str, Enum):
    """Closed vocabulary of reason codes, stored in the quarantine table and in DQ checks."""

    EMPTY_FILE = "EMPTY_FILE"
    NOT_DICOM = "NOT_DICOM"
    TRUNCATED = "TRUNCATED"
    NO_FILE_META = "NO_FILE_META"
    MISSING_UID = "MISSING_UID"
    INVALID_VALUE = "INVALID_VALUE"
    UNSUPPORTED_CHARSET = "UNSUPPORTED_CHARSET"
    TOO_DEEP = "TOO_DEEP"
    OVERSIZE = "OVERSIZE"
    WRITE_FAILED = "WRITE_FAILED"
    PIXEL_DECODE_FAILED = "PIXEL_DECODE_FAILED"
    PIXEL_ENCODE_FAILED = "PIXEL_ENCODE_FAILED"
    PIXELS_UNVERIFIED = "PIXELS_UNVERIFIED"
    OCR_FAILED = "OCR_FAILED"
    VERIFICATION_FAILED = "VERIFICATION_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class DeidError(Exception):
    """Base of every error the package raises on purpose. ``str(err)`` never carries PHI.

    ``code`` names the kind in messages and logs (``CONFIG_ERROR`` for :class:`ConfigError`: the
    class name in capitals unless a class sets its own). ``exit_code`` is what an entry point
    (:mod:`deid.entry`) exits with: 2 for a usage, configuration or environment error, 1 for work
    that ran and failed.
    """

    code: str = "DEID_ERROR"
    exit_code: int = 2

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).upper()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(DeidError):
    """A configuration file or value is invalid; the message names the key and what is allowed."""


class KeyMaterialError(DeidError):
    """The secret master key is missing, too short or cannot be read from its secret store."""


class InputError(DeidError):
    """One input cannot be de-identified; ``reason`` goes to the quarantine table."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason


class PixelError(InputError):
    """Pixel data cannot be decoded, checked or re-encoded (PS3.15 E.3.1 Clean Pixel Data)."""


class TableIOError(DeidError):
    """Reading or committing a Delta table failed."""


class QualityGateError(DeidError):
    """A critical data-quality expectation or the verification pass failed; the batch is not released."""

    code = "QUALITY_GATE_FAILED"


class ZoneError(DeidError):
    """Storage zones are laid out unsafely (a PHI zone inside the de-identified output, say).

    Messages name the zones (``raw``, ``crosswalk``, ``output``, ``input``), never their locations:
    an export path may carry a patient's name.
    """


class CryptoError(DeidError):
    """A crosswalk value cannot be encrypted or decrypted with the key given."""


class SqlStatementError(DeidError):
    """A statement of a SQL file failed when Spark ran it (an ``assert_true`` check, say)."""

    code = "SQL_STATEMENT_FAILED"
    exit_code = 1


class SqlFileError(DeidError):
    """A SQL file or its variables cannot be used (the message names no data)."""
