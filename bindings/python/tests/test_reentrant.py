"""Callbacks that come back into the destination they are called from, against the real server: a
progress callback, a write callback or a log handler that closes the destination, and a log handler
that uses it. None may hang the host; a close from inside a call takes effect when the call returns.
Each case runs on a worker thread joined with a timeout, so that a hang fails the test, not the run."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator, List, Optional

import pytest

from conftest import Server
from openstack_dest import Destination, sync_log_level

pytestmark = pytest.mark.server

HANG = 60.0  # seconds: far longer than any of these calls takes


def _within(what: str, fn: Callable[[], Any]) -> None:
    """fn() on a daemon thread; the test fails when it does not return within HANG seconds."""
    err: List[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            err.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG)
    if t.is_alive():
        pytest.fail(f"{what} hung (no return in {HANG:.0f} s)")
    if err:
        raise err[0]


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
    _within("put with close() in its progress callback", lambda: d.put("closed-inside.bin", data, progress=progress))
    assert d.closed and calls
    with pytest.raises(ValueError):
        d.list()
    with Destination(server.v3_url(container)) as other:  # the put that was running finished: whole
        assert other.get("closed-inside.bin") == data


def test_close_from_a_write_callback_of_get(dest: Destination, server: Server, container: str) -> None:
    dest.put("g.bin", b"g" * 100_000)
    d = Destination(server.v3_url(container))
    parts: List[bytes] = []

    class Sink:
        def write(self, b: bytes) -> int:
            if not parts:
                d.close()
            parts.append(bytes(b))
            return len(b)

    _within("get with close() in its write callback", lambda: d.get("g.bin", Sink()))
    assert b"".join(parts) == b"g" * 100_000 and d.closed


class _Handler(logging.Handler):
    """Runs on_line on every line of the openstack_dest logger; keeps what it raises."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.on_line = on_line
        self.errors: List[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.on_line(record.getMessage())
        except BaseException as e:  # noqa: BLE001 - checked by the test
            self.errors.append(e)


@pytest.fixture
def handler(caplog: Any) -> Iterator[_Handler]:
    caplog.set_level(logging.DEBUG, logger="openstack_dest")
    log, h = logging.getLogger("openstack_dest"), _Handler(lambda line: None)
    log.addHandler(h)
    sync_log_level()
    yield h
    log.removeHandler(h)


@pytest.mark.parametrize("closes", [False, True], ids=["uses", "closes"])
def test_a_log_handler_may_use_or_close_the_destination_that_is_logging(
    server: Server, container: str, handler: _Handler, closes: bool
) -> None:
    d = Destination(server.v3_url(container))
    used: List[str] = []

    def on_line(line: str) -> None:
        # The line that says the destination authenticated comes while it is inside a call.
        if "authenticated" in line and closes:
            d.close()
        elif "authenticated" in line and not used:
            used.append("quota")
            d.quota()
            used.append("done")

    handler.on_line = on_line
    _within(f"create_container with a log handler that {'closes' if closes else 'uses'} the destination",
            d.create_container)
    assert not handler.errors, handler.errors
    if closes:
        assert d.closed
        with pytest.raises(ValueError):
            d.test()
    else:
        assert used == ["quota", "done"]
        d.close()
