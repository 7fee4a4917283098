"""The executors' toolkit: the per-input error boundary, the per-worker cache, the keyed digest."""

from __future__ import annotations

import hashlib
import threading

import pytest

from deid.errors import InputError, Reason
from deid.keys import KeyRing
from deid.pipeline.executor import Failed, each_input, per_worker, source_digest
from deid.pipeline.faults import InjectedFault


def _raise(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize(("exc", "expected"), [
    (InputError(Reason.TRUNCATED, "the file ends inside an element"),
     Failed(Reason.TRUNCATED, "the file ends inside an element")),
    (ValueError("PatientName DOE^JOHN is odd"), Failed(Reason.INTERNAL_ERROR, "ValueError")),
    (KeyError("DOE^JOHN"), Failed(Reason.INTERNAL_ERROR, "KeyError")),
])
def test_each_input_turns_errors_into_reasons_without_their_text(exc: Exception, expected: Failed) -> None:
    assert each_input(lambda: _raise(exc)) == expected
    assert each_input(lambda: 42) == 42


def test_an_injected_fault_is_never_swallowed() -> None:
    with pytest.raises(InjectedFault):
        each_input(lambda: _raise(InjectedFault("die here")))


def test_per_worker_makes_each_object_once_even_across_threads() -> None:
    made: list[int] = []

    def make() -> object:
        made.append(1)
        return object()

    key = ("test", threading.get_ident())
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(per_worker(key, make))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(g) for g in got}) == 1
    nested = per_worker(("outer", key), lambda: per_worker(("inner", key), lambda: "inner"))
    assert nested == "inner", "a factory may ask for another cached object"


def test_source_digest_is_keyed_and_stable(test_keyring: KeyRing) -> None:
    sha = hashlib.sha256(b"input").hexdigest()
    other = KeyRing(hashlib.sha256(b"a rotated-out key").digest())
    assert source_digest(test_keyring, sha) == source_digest(test_keyring, sha)
    assert source_digest(test_keyring, sha) != source_digest(other, sha)
    assert sha not in source_digest(test_keyring, sha) and len(source_digest(test_keyring, sha)) == 64
