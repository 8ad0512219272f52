"""Callbacks that come back into the destination they are called from, against the real server: a
progress callback or a log handler that closes the destination, and a log handler that uses it.
None may hang the host; a close from inside a call takes effect when the call returns.

Each case runs on a worker thread joined with a timeout, so that a hang fails the test instead of
the run."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, List, Optional

import pytest

from conftest import Server
from openstack_dest import Destination, sync_log_level

pytestmark = pytest.mark.server

HANG = 60.0  # seconds: far longer than any of these calls takes


def _within(seconds: float, what: str, fn: Callable[[], Any]) -> Any:
    """fn() on a daemon thread; its result, or the test fails when it does not return in time."""
    out: List[Any] = []
    err: List[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed to the test
            err.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"{what} hung (no return in {seconds:.0f} s)")
    if err:
        raise err[0]
    return out[0] if out else None


class _Handler(logging.Handler):
    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.on_line = on_line
        self.errors: List[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.on_line(record.getMessage())
        except BaseException as e:  # noqa: BLE001 - checked by the test
            self.errors.append(e)


def _with_handler(handler: logging.Handler) -> Callable[[], None]:
    log = logging.getLogger("openstack_dest")
    old = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    sync_log_level()

    def undo() -> None:
        log.removeHandler(handler)
        log.setLevel(old)
        sync_log_level()

    return undo


def test_close_from_a_progress_callback_takes_effect_when_the_call_returns(server: Server, container: str) -> None:
    d = Destination(server.v3_url(container))
    d.create_container()
    calls: List[int] = []

    def progress(done: int, total: Optional[int]) -> bool:
        calls.append(done)
        if len(calls) == 1:
            d.close()  # from inside put: must not wait for put itself
            assert d.closed
            with pytest.raises(ValueError):
                d.test()  # no new call starts
        return True

    data = b"r" * (3 << 20)
    _within(HANG, "put with close() in its progress callback", lambda: d.put("closed-inside.bin", data, progress=progress))
    assert d.closed and len(calls) >= 1
    with pytest.raises(ValueError):
        d.list()
    # The put that was running finished: the object is whole.
    with Destination(server.v3_url(container)) as other:
        assert other.get("closed-inside.bin") == data


def test_close_from_a_write_callback_of_get(server: Server, container: str) -> None:
    with Destination(server.v3_url(container)) as setup:
        setup.create_container()
        setup.put("g.bin", b"g" * 100_000)
    d = Destination(server.v3_url(container))

    class Sink:
        def __init__(self) -> None:
            self.parts: List[bytes] = []

        def write(self, b: bytes) -> int:
            if not self.parts:
                d.close()
            self.parts.append(bytes(b))
            return len(b)

    sink = Sink()
    _within(HANG, "get with close() in its write callback", lambda: d.get("g.bin", sink))
    assert b"".join(sink.parts) == b"g" * 100_000
    assert d.closed


def test_a_log_handler_may_use_the_destination_that_is_logging(server: Server, container: str) -> None:
    d = Destination(server.v3_url(container))
    used: List[str] = []

    def on_line(line: str) -> None:
        # The line that says the destination authenticated comes while it is inside a call.
        if "authenticated" in line and not used:
            used.append("quota")
            d.quota()
            used.append("done")

    handler = _Handler(on_line)
    undo = _with_handler(handler)
    try:
        _within(HANG, "create_container with a log handler that uses the destination", d.create_container)
    finally:
        undo()
    assert used == ["quota", "done"], (used, handler.errors)
    assert not handler.errors, handler.errors
    d.close()


def test_a_log_handler_may_close_the_destination_that_is_logging(server: Server, container: str) -> None:
    d = Destination(server.v3_url(container))

    def on_line(line: str) -> None:
        if "authenticated" in line:
            d.close()

    handler = _Handler(on_line)
    undo = _with_handler(handler)
    try:
        _within(HANG, "create_container with a log handler that closes the destination", d.create_container)
    finally:
        undo()
    assert d.closed and not handler.errors, handler.errors
    with pytest.raises(ValueError):
        d.test()
