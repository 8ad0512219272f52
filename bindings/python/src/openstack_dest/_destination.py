"""The :class:`Destination` class: one OpenStack Swift container (and optional prefix)."""

from __future__ import annotations

import atexit
import ctypes
import io
import itertools
import logging
import os
import queue
import threading
from ctypes import POINTER, byref, c_char_p, c_size_t, c_void_p
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Literal,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    Union,
    overload,
)

from . import _native
from ._native import (
    DELETE_FAILURE_CB,
    ENTRY_CB,
    LOG_CB,
    META_CB,
    PROGRESS_CB,
    READ_CB,
    REWIND_CB,
    WRITE_CB,
    EntryKindCode,
    LogLevel,
    OsEntry,
    OsObjectVersion,
    OsQuotaInfo,
    Status,
    lib,
)
from .errors import DeleteManyError, InternalError, InvalidArgumentError, OpenStackError, error_for

__all__ = [
    "Destination",
    "Entry",
    "EntryKind",
    "Quota",
    "ProgressCallback",
    "PathType",
    "SupportsRead",
    "SupportsWrite",
    "version",
]

PathType = Union[str, "os.PathLike[str]"]
#: ``progress(done, total)``: bytes done so far, total bytes or None when unknown.
#: Returning False cancels (CancelledError); raising cancels and the exception is re-raised.
ProgressCallback = Callable[[int, Optional[int]], Optional[bool]]
BytesLike = Union[bytes, bytearray, memoryview]
#: An expiry after the upload: a ``timedelta`` or a number of seconds.
DeleteAfter = Union[timedelta, int, float]
#: An expiry time: an aware ``datetime`` or a Unix time in seconds.
DeleteAt = Union[datetime, int, float]


class SupportsRead(Protocol):
    """A binary source: ``read(n) -> bytes`` (``readinto`` is used when present; ``seek``/``tell``
    make it rewindable so that a failed upload can be retried)."""

    def read(self, __size: int) -> bytes: ...


class SupportsWrite(Protocol):
    """A binary sink: ``write(bytes)`` (returning the count written, or None for all)."""

    def write(self, __data: bytes) -> Optional[int]: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

logger = logging.getLogger("openstack_dest")


def version() -> str:
    """The version of the loaded native library."""
    raw = lib.os_version()
    return raw.decode("ascii", "replace") if raw else ""


# --------------------------------------------------------------------------------------------
# Logging: the library's lines go to the "openstack_dest" logger.

_PY_LEVELS = {
    int(LogLevel.ERROR): logging.ERROR,
    int(LogLevel.WARN): logging.WARNING,
    int(LogLevel.INFO): logging.INFO,
    int(LogLevel.DEBUG): logging.DEBUG,
}


def _log_line(_ctx: Optional[int], level: int, message: Optional[bytes]) -> None:
    try:
        py_level = _PY_LEVELS.get(level, logging.INFO)
        if logger.isEnabledFor(py_level):
            text = message.decode("utf-8", "replace") if message else ""
            logger.log(py_level, "%s", text)
    except BaseException:  # noqa: BLE001 - nothing may escape into the library
        pass


# Kept alive at module level for as long as the library may call it.
_LOG_CALLBACK = LOG_CB(_log_line)
_native_log_level: Optional[int] = None


def _native_level_for(py_level: int) -> int:
    """The library's level that passes exactly what the logger's effective level lets through."""
    if py_level <= logging.DEBUG:
        return int(LogLevel.DEBUG)
    if py_level <= logging.INFO:
        return int(LogLevel.INFO)
    if py_level <= logging.WARNING:
        return int(LogLevel.WARN)
    return int(LogLevel.ERROR)


_NO_LOG = LOG_CB()
_log_lock = threading.Lock()


def sync_log_level() -> None:
    """Makes the library send only the lines the ``openstack_dest`` logger would keep.

    Called at import and whenever a Destination opens; call it after changing the logger's level
    (or its parents') for the change to reach destinations already open. Lines below the level
    are then dropped inside the library, never formatted or passed into Python.

    The binding's callback never replaces one that another part of the process set (C code, another
    binding): while such a callback is set, the library's lines go there and not to the logger;
    once it is removed, the next call installs the binding's.
    """
    global _native_log_level
    level = _native_level_for(logger.getEffectiveLevel())
    with _log_lock:
        if _native_log_level is None:
            if lib.os_set_log_callback_if(_NO_LOG, None, _LOG_CALLBACK, None, level):
                _native_log_level = level
        else:  # still ours? (replacing it by itself tells, and sets the level)
            if lib.os_set_log_callback_if(_LOG_CALLBACK, None, _LOG_CALLBACK, None, level):
                _native_log_level = level
            else:  # another part of the process replaced it meanwhile: theirs stays
                _native_log_level = None


def log_callback_installed() -> bool:
    """Whether the library's log lines go to the ``openstack_dest`` logger (False while a callback
    that another part of the process set is in place)."""
    return _native_log_level is not None


sync_log_level()


def _stop_logging() -> None:
    try:
        # Only the binding's own callback is removed; another's stays.
        lib.os_set_log_callback_if(_LOG_CALLBACK, None, _NO_LOG, None, int(LogLevel.ERROR))
    except Exception:  # noqa: BLE001 - interpreter shutdown
        pass


atexit.register(_stop_logging)


# --------------------------------------------------------------------------------------------
# Results


#: What an :class:`Entry` is: ``"object"`` (an ordinary object: its ``etag`` is the MD5 of its
#: content), ``"static_large"`` (a Static Large Object: its ``etag`` is the MD5 of its segments'
#: MD5s), ``"dynamic_large"`` (a Dynamic Large Object, ``X-Object-Manifest``: its ``etag`` is not
#: the content's MD5 either) or ``"folder"``.
EntryKind = Literal["object", "static_large", "dynamic_large", "folder"]

_KIND_NAMES: Dict[int, EntryKind] = {
    EntryKindCode.OBJECT: "object",
    EntryKindCode.STATIC_LARGE: "static_large",
    EntryKindCode.DYNAMIC_LARGE: "dynamic_large",
    EntryKindCode.FOLDER: "folder",
}


@dataclass(frozen=True)
class Entry:
    """One object or folder of a listing (or a ``stat`` result). Names are relative to the prefix.

    ``etag`` is Swift's ETag (lower-case hex). It is the MD5 of the content only when ``kind`` is
    ``"object"`` (see :attr:`etag_is_md5`): a large object's ETag comes from its segments, so
    never compare it with a file's MD5.
    """

    name: str
    size: Optional[int]
    last_modified: Optional[datetime]
    is_folder: bool
    #: Swift's ETag, ``None`` for folders; the content's MD5 only when ``kind == "object"``.
    etag: Optional[str]
    #: The modification time of the file the object was uploaded from (``X-Object-Meta-Mtime``),
    #: from ``stat``; ``None`` when unknown (always in listings, which do not carry it).
    mtime: Optional[datetime] = None
    #: The host's own metadata (``X-Object-Meta-*`` but the library's ``mtime``), keys in lower
    #: case, from ``stat``; empty in listings, which do not carry it.
    metadata: Dict[str, str] = field(default_factory=dict, hash=False)
    #: When Swift deletes the object (``X-Delete-At``), from ``stat``; ``None`` when it does not
    #: expire (always in listings).
    delete_at: Optional[datetime] = None
    #: What the entry is (see :data:`EntryKind`). ``stat`` always knows. A listing knows folders
    #: and Static Large Objects; a Dynamic Large Object lists as a zero-byte object, so a listing
    #: says ``"dynamic_large"`` only when it looks at zero-byte entries with a HEAD (option
    #: ``openstack-list-large-object-sizes``, on by default) and ``"object"`` otherwise.
    kind: EntryKind = "object"

    @property
    def etag_is_md5(self) -> bool:
        """Whether ``etag`` is the MD5 of the content (an ordinary object with an ETag)."""
        return self.kind == "object" and self.etag is not None


@dataclass(frozen=True)
class Version:
    """One version of an object in a container with Swift's object versioning (from
    :meth:`Destination.list_versions`, newest first)."""

    #: Swift's version id: give it to ``get(name, version_id=...)`` or :meth:`Destination.restore_version`.
    #: ``"null"`` is the version written before versioning was turned on.
    version_id: str
    #: Size in bytes (0 for a delete marker); ``None`` when unknown.
    size: Optional[int]
    #: When it was written (a delete marker: when the object was deleted).
    last_modified: Optional[datetime]
    #: Whether it is the current version, the one a plain ``get`` reads.
    is_current: bool
    #: Whether it is a delete marker: the record of a delete, with no data to get or restore.
    is_delete_marker: bool


def _version_from(raw: OsObjectVersion) -> Version:
    return Version(
        version_id=raw.version_id.decode("utf-8", "replace") if raw.version_id else "",
        size=None if raw.size < 0 else int(raw.size),
        last_modified=_time_from_ms(raw.last_modified_ms),
        is_current=bool(raw.is_current),
        is_delete_marker=bool(raw.is_delete_marker),
    )


@dataclass(frozen=True)
class Quota:
    """Account usage as Swift reports it."""

    bytes_used: int
    quota_bytes: Optional[int]
    object_count: int
    container_count: int


def _time_from_ms(ms: int) -> Optional[datetime]:
    """A time the library reports in ms since the epoch (-1: unknown) as an aware datetime, or None
    when unknown or beyond what datetime holds: a server's value never raises here."""
    if ms < 0:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=int(ms))
    except (OverflowError, ValueError):
        return None


def _entry_from(raw: OsEntry, metadata: Optional[Dict[str, str]] = None) -> Entry:
    return Entry(
        name=raw.name.decode("utf-8", "replace") if raw.name else "",
        size=int(raw.size) if raw.size >= 0 else None,
        last_modified=_time_from_ms(raw.last_modified_ms),
        is_folder=bool(raw.is_folder),
        etag=raw.etag.decode("utf-8", "replace") if raw.etag else None,
        mtime=_time_from_ms(raw.mtime_ms),
        metadata=metadata if metadata is not None else {},
        delete_at=_time_from_ms(raw.delete_at_ms),
        kind=_kind_name(int(raw.kind)),
    )


def _kind_name(code: int) -> EntryKind:
    try:
        return _KIND_NAMES[code]
    except KeyError:
        # The library and this binding come from one header (checked when the library is loaded).
        raise InternalError(f"the library reported an unknown entry kind {code}", int(Status.PANIC)) from None


# --------------------------------------------------------------------------------------------
# Streams through the C callbacks. Each call registers its state under an integer id passed as
# the callbacks' ctx; the CFUNCTYPE objects themselves live at module level.


class _CallState:
    __slots__ = ("source", "sink", "start", "progress", "error", "rewind_error")

    def __init__(self, progress: Optional[ProgressCallback]) -> None:
        self.source: Any = None
        self.sink: Any = None
        self.start = 0
        self.progress = progress
        self.error: Optional[BaseException] = None
        self.rewind_error: Optional[BaseException] = None


_states: Dict[int, _CallState] = {}
_ids = itertools.count(1)


def _read(ctx: Optional[int], buf: Optional[int], cap: int) -> int:
    state = _states.get(ctx or 0)
    if state is None or buf is None:
        return -1
    try:
        if cap == 0:
            return 0
        source = state.source
        readinto = getattr(source, "readinto", None)
        if readinto is not None:
            target = (ctypes.c_char * cap).from_address(buf)
            n = readinto(target)
            if n is None:
                raise BlockingIOError("the file object has no data ready (non-blocking stream)")
        else:
            data = source.read(cap)
            if data is None:
                raise BlockingIOError("the file object has no data ready (non-blocking stream)")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"the file object's read() returned {type(data).__name__}, not bytes: "
                    "open it in binary mode"
                )
            n = len(data)
            if n:
                ctypes.memmove(buf, bytes(data), n)
        n = int(n)
        if n < 0 or n > cap:
            raise ValueError(f"the file object read {n} bytes into a buffer of {cap}")
        return n
    except BaseException as exc:  # noqa: BLE001 - stored and re-raised after the call
        if state.error is None:
            state.error = exc
        return -1


def _rewind(ctx: Optional[int]) -> int:
    state = _states.get(ctx or 0)
    if state is None:
        return 1
    try:
        state.source.seek(state.start)
        return 0
    except BaseException as exc:  # noqa: BLE001
        state.rewind_error = exc
        return 1


def _write(ctx: Optional[int], buf: Optional[int], length: int) -> int:
    state = _states.get(ctx or 0)
    if state is None:
        return 1
    try:
        if length == 0:
            return 0
        if buf is None:
            raise ValueError("the library passed a NULL buffer")
        # A copy: the library's buffer is only valid during this call.
        data = ctypes.string_at(buf, length)
        write = state.sink.write
        while data:
            n = write(data)
            if n is None:  # Python-level writers that return nothing wrote everything
                break
            n = int(n)
            if n <= 0 or n > len(data):
                raise OSError(f"the file object's write() returned {n} for {len(data)} bytes")
            data = data[n:]  # a short write (raw streams): write the rest
        return 0
    except BaseException as exc:  # noqa: BLE001
        if state.error is None:
            state.error = exc
        return 1


def _progress(ctx: Optional[int], done: int, total: int) -> int:
    state = _states.get(ctx or 0)
    if state is None or state.progress is None:
        return 0
    try:
        result = state.progress(int(done), int(total) if total >= 0 else None)
        return 1 if result is False else 0
    except BaseException as exc:  # noqa: BLE001
        if state.error is None:
            state.error = exc
        return 1


class _StopListing(Exception):
    """Raised by a listing sink to stop os_list_each without an error."""


def _entry(ctx: Optional[int], raw: Any) -> int:
    state = _states.get(ctx or 0)
    if state is None or not raw:
        return 1
    try:
        state.sink(_entry_from(raw.contents))  # a copy: the entry is borrowed for this call only
        return 0
    except BaseException as exc:  # noqa: BLE001 - stored and re-raised after the call
        if state.error is None:
            state.error = exc
        return 1


_ITER_QUEUE = 256
_ENTRY_CALLBACK = ENTRY_CB(_entry)
_READ_CALLBACK = READ_CB(_read)
_REWIND_CALLBACK = REWIND_CB(_rewind)
_WRITE_CALLBACK = WRITE_CB(_write)
_PROGRESS_CALLBACK = PROGRESS_CB(_progress)
_NO_PROGRESS = PROGRESS_CB()
_NO_REWIND = REWIND_CB()


class _Registered:
    """Registers a _CallState for the duration of one library call."""

    def __init__(self, state: _CallState) -> None:
        self.state = state
        self.key = next(_ids)

    def __enter__(self) -> int:
        _states[self.key] = self.state
        return self.key

    def __exit__(self, *exc: object) -> None:
        _states.pop(self.key, None)


# --------------------------------------------------------------------------------------------
# Argument conversion


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, int(Status.INVALID_ARGUMENT))


# Every string that crosses into the library goes through _text or _path. A NUL would end the C
# string early ("keep\0x" would name "keep"), and text UTF-8 cannot encode has no meaning there: both
# are InvalidArgumentError, like the library's own answer to an argument it cannot read. Messages
# name the argument, never its value (it may be a password).


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid(f"{what} is not valid Unicode text ({exc.reason})") from None
    if b"\0" in raw:
        raise _invalid(f"{what} contains a NUL character")
    return raw


def _path(value: PathType, what: str = "path") -> bytes:
    try:
        raw = os.fsencode(os.fspath(value))
    except UnicodeEncodeError as exc:
        raise _invalid(f"the {what} is not valid Unicode text ({exc.reason})") from None
    if b"\0" in raw:
        raise _invalid(f"the {what} contains a NUL character")
    return raw


_U64_MAX = 2**64 - 1


def _count(value: int, what: str) -> int:
    """A byte offset or length for a uint64_t parameter: an int (not a bool), 0 to 2**64-1; ctypes
    would silently wrap a negative or too large number into another valid one."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    number = value.__index__()
    if number < 0:
        raise _invalid(f"{what} must not be negative ({number})")
    if number > _U64_MAX:
        raise _invalid(f"{what} is over 2**64-1 ({number})")
    return number


def _delete_after_seconds(value: DeleteAfter) -> int:
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise TypeError(f"delete_after must be a timedelta or seconds, not {type(value).__name__}")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    whole = int(seconds) + (1 if seconds > int(seconds) else 0)  # a fraction rounds up
    if whole < 1 or whole > _U64_MAX:
        raise _invalid(f"delete_after must be at least one second ({value!r})")
    return whole


def _delete_at_seconds(value: DeleteAt) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _invalid("delete_at must be an aware datetime (with a tzinfo), or a Unix time")
        seconds = (value - _EPOCH).total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"delete_at must be a datetime or a Unix time, not {type(value).__name__}")
    whole = int(seconds) + (1 if seconds > int(seconds) else 0)
    if whole < 0 or whole >= 2**63:
        raise _invalid(f"delete_at must be after 1970 ({value!r})")
    return whole


class _PutOptions:
    """The library's os_put_options for one call, built from the keyword arguments (NULL when
    none is given); freed on exit. Bad values raise before anything is sent."""

    def __init__(
        self,
        metadata: Optional[Mapping[str, str]],
        delete_after: Optional[DeleteAfter],
        delete_at: Optional[DeleteAt],
        no_expiry: bool,
    ) -> None:
        self.handle: Optional[int] = None
        given = [delete_after is not None, delete_at is not None, bool(no_expiry)]
        if sum(given) > 1:
            raise _invalid("give at most one of delete_after, delete_at and no_expiry")
        if metadata is None and not any(given):
            return
        pairs: List[Tuple[bytes, bytes]] = []
        for key, value in (metadata or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("metadata keys and values must be str")
            pairs.append((_text(key, "a metadata key"), _text(value, f"the value of metadata key {key!r}")))
        after = _delete_after_seconds(delete_after) if delete_after is not None else None
        at = _delete_at_seconds(delete_at) if delete_at is not None else None
        handle = lib.os_put_options_new()
        if not handle:
            raise MemoryError("os_put_options_new")
        self.handle = handle
        try:
            for raw_key, raw_value in pairs:
                Destination._check(lib.os_put_options_set_meta(handle, raw_key, raw_value))
            if after is not None:
                Destination._check(lib.os_put_options_set_delete_after(handle, after))
            if at is not None:
                Destination._check(lib.os_put_options_set_delete_at(handle, at))
            if no_expiry:
                Destination._check(lib.os_put_options_set_no_expiry(handle))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.handle is not None:
            lib.os_put_options_free(self.handle)
            self.handle = None

    def __enter__(self) -> Optional[int]:
        return self.handle

    def __exit__(self, *exc: object) -> None:
        self.close()


def _option_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


def _check_binary_reader(source: Any) -> None:
    if isinstance(source, io.TextIOBase):
        raise TypeError("the file object must be opened in binary mode ('rb'), not text mode")


def _check_binary_writer(target: Any) -> None:
    if isinstance(target, io.TextIOBase):
        raise TypeError("the file object must be opened in binary mode ('wb'), not text mode")


def _seekable_start(source: Any) -> Optional[int]:
    """The current position when the stream can go back to it, else None."""
    try:
        if hasattr(source, "seekable") and not source.seekable():
            return None
        return int(source.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _remaining_size(source: Any, start: int) -> int:
    """Bytes from start to the end of a seekable stream, or -1."""
    try:
        end = int(source.seek(0, io.SEEK_END))
        source.seek(start)
        return max(end - start, 0)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        try:
            source.seek(start)
        except Exception:  # noqa: BLE001
            pass
        return -1


# --------------------------------------------------------------------------------------------


class Destination:
    """An OpenStack Swift destination named by an ``openstack://`` URL.

    ``options`` are extra URL options as a mapping (the URL's own query wins). A bad URL or a
    missing option raises :class:`InvalidUrlError` here; a NUL character in the URL or an option
    :class:`InvalidArgumentError`, as in any name or path. One Destination may be shared by several
    threads. Use it as a context manager or call :meth:`close`.
    """

    def __init__(self, url: str, options: Optional[Mapping[str, str]] = None) -> None:
        sync_log_level()
        self._handle: Optional[int] = None
        self._cond = threading.Condition()
        self._active = 0
        #: How many calls of this destination each thread is inside (callbacks nest them).
        self._callers: Dict[int, int] = {}
        self._closed = False
        raw_url = _text(url, "the URL")
        items = list((options or {}).items())
        keys = (c_char_p * max(len(items), 1))()
        values = (c_char_p * max(len(items), 1))()
        for i, (key, value) in enumerate(items):
            keys[i] = _text(str(key), f"option name {key!r}")
            # Never name the value in an error: it may be a password.
            values[i] = _text(_option_value(value), f"the value of option {key!r}")
        out = c_void_p()
        status = lib.os_open_with(raw_url, keys, values, len(items), byref(out))
        if status != Status.OK:
            raise self._error(status)
        if not out.value:
            raise OpenStackError("os_open_with returned no handle", int(Status.PANIC))
        self._handle = out.value

    # ---- lifetime

    def __enter__(self) -> "Destination":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the handle (waits for calls running in other threads). Idempotent.

        Called from inside a call of this destination — from a progress, read or write callback,
        or a log handler, on the calling thread or on one of the library's own threads — it
        cannot wait for the call it is part of: then no new call starts (they raise ValueError)
        and the handle is released when the running calls return."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            if self._active and self._inside_a_call():
                return  # the last running call releases the handle (_InUse.__exit__)
            while self._active:
                self._cond.wait()
            handle, self._handle = self._handle, None
        if handle:
            lib.os_free(handle)

    def _inside_a_call(self) -> bool:
        """Whether the current thread runs inside a call of this destination: it is in one, or it
        is a thread of the library's (Python knows it only as a dummy thread) running a callback.
        Called with self._cond held."""
        if self._callers.get(threading.get_ident(), 0) > 0:
            return True
        return isinstance(threading.current_thread(), threading._DummyThread)

    @property
    def closed(self) -> bool:
        return self._closed

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle:
            self._handle = None
            try:
                lib.os_free(handle)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def __repr__(self) -> str:  # the URL may carry a password: never show it
        return f"<openstack_dest.Destination {'closed' if self._closed else 'open'}>"

    def _use(self) -> "_InUse":
        return _InUse(self)

    @staticmethod
    def _error(status: int) -> OpenStackError:
        message, http_status = _native.last_error()
        return error_for(int(status), message, http_status)

    @classmethod
    def _check(cls, status: int, state: Optional[_CallState] = None) -> None:
        if status == Status.OK:
            if state is not None and state.error is not None:
                raise state.error
            return
        err = cls._error(status)  # read the thread's last error before anything else
        if state is not None:
            if state.error is not None:
                raise state.error
            if state.rewind_error is not None:
                raise err from state.rewind_error
        raise err

    # ---- operations

    def test(self) -> None:
        """Authenticate and check that the container exists and is readable."""
        with self._use() as h:
            self._check(lib.os_test(h))

    def create_container(self) -> None:
        """Create the container (idempotent)."""
        with self._use() as h:
            self._check(lib.os_create_container(h))

    def put(
        self,
        name: str,
        source: Union[BytesLike, PathType, SupportsRead],
        *,
        progress: Optional[ProgressCallback] = None,
        metadata: Optional[Mapping[str, str]] = None,
        delete_after: Optional[DeleteAfter] = None,
        delete_at: Optional[DeleteAt] = None,
        no_expiry: bool = False,
    ) -> None:
        """Upload ``source`` (bytes, a local file path, or a binary file object) as ``name``.

        File objects are streamed from their current position; seekable ones can be rewound for a
        retry. An exception raised by the file object or ``progress`` is re-raised here.

        ``metadata`` is the host's own (``X-Object-Meta-<key>``; keys are letters, digits and
        ``!#$%&'*+-.^`|~``, ``mtime`` is the library's file time; an empty value stores nothing).
        ``delete_after`` (a ``timedelta`` or seconds) or ``delete_at`` (an aware ``datetime`` or a
        Unix time) make the object expire, ``no_expiry`` keeps it although the destination has
        ``openstack-delete-after``. Bad metadata or expiry raise ``InvalidArgumentError`` before
        anything is stored.
        """
        raw_name = _text(name, "the object name")
        if not isinstance(source, (bytes, bytearray, memoryview)) and not _is_path(source):
            if not hasattr(source, "read"):
                raise TypeError(
                    "source must be bytes, a path (str or os.PathLike) or a binary file object, "
                    f"not {type(source).__name__}"
                )
            _check_binary_reader(source)
        with _PutOptions(metadata, delete_after, delete_at, no_expiry) as options:
            if isinstance(source, (bytes, bytearray, memoryview)):
                data = source if isinstance(source, bytes) else bytes(source)
                if progress is None:
                    with self._use() as h:
                        self._check(lib.os_put_opts(h, raw_name, data, len(data), options))
                    return
                self._put_stream(raw_name, io.BytesIO(data), progress, options)
            elif _is_path(source):
                path = _path(source)  # type: ignore[arg-type]
                state = _CallState(progress)
                with self._use() as h, _Registered(state) as key:
                    status = lib.os_put_file_opts(
                        h,
                        raw_name,
                        path,
                        options,
                        _PROGRESS_CALLBACK if progress else _NO_PROGRESS,
                        key,
                    )
                    self._check(status, state)
            else:
                self._put_stream(raw_name, source, progress, options)

    def update_metadata(
        self,
        name: str,
        metadata: Optional[Mapping[str, str]] = None,
        *,
        delete_after: Optional[DeleteAfter] = None,
        delete_at: Optional[DeleteAt] = None,
        no_expiry: bool = False,
    ) -> None:
        """Change the metadata and expiry of an existing object without its data.

        Each key of ``metadata`` is set, a key with the value ``""`` is removed, every other key
        stays (the file time the library stored and keys of other tools included). The expiry stays
        unless ``delete_after`` / ``delete_at`` set a new one or ``no_expiry`` removes it (the
        destination's ``openstack-delete-after`` does not apply). ``NotFoundError`` when the object
        does not exist.
        """
        raw_name = _text(name, "the object name")
        with _PutOptions(metadata or {}, delete_after, delete_at, no_expiry) as options:
            with self._use() as h:
                self._check(lib.os_update_metadata(h, raw_name, options))

    def _put_stream(
        self,
        raw_name: bytes,
        source: Any,
        progress: Optional[ProgressCallback],
        options: Optional[int] = None,
    ) -> None:
        state = _CallState(progress)
        state.source = source
        start = _seekable_start(source)
        size_hint = -1
        if start is not None:
            state.start = start
            size_hint = _remaining_size(source, start)
        with self._use() as h, _Registered(state) as key:
            status = lib.os_put_stream_opts(
                h,
                raw_name,
                _READ_CALLBACK,
                _REWIND_CALLBACK if start is not None else _NO_REWIND,
                key,
                size_hint,
                _PROGRESS_CALLBACK if progress else _NO_PROGRESS,
                key,
                options,
            )
            self._check(status, state)

    @overload
    def get(
        self,
        name: str,
        *,
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
    ) -> bytes: ...

    @overload
    def get(
        self,
        name: str,
        target: Union[PathType, SupportsWrite],
        *,
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
    ) -> None: ...

    def get(
        self,
        name: str,
        target: Union[None, PathType, SupportsWrite] = None,
        *,
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
    ) -> Optional[bytes]:
        """Download ``name``: as bytes (no target), into a local file path, or into a binary
        file object (streamed, written at its current position). With ``version_id`` (from
        :meth:`list_versions`), that version of it: a version id that is not one raises
        :class:`InvalidArgumentError` before any request; a missing version, one of another
        object or a delete marker raises :class:`NotFoundError`."""
        raw_name = _text(name, "the object name")
        raw_version = None if version_id is None else _text(version_id, "the version id")
        if target is None:
            if progress is None:
                data = c_void_p()
                length = c_size_t()
                with self._use() as h:
                    if raw_version is None:
                        self._check(lib.os_get(h, raw_name, byref(data), byref(length)))
                    else:
                        self._check(
                            lib.os_get_version(h, raw_name, raw_version, byref(data), byref(length))
                        )
                try:
                    if not data.value or not length.value:
                        return b""
                    return ctypes.string_at(data.value, length.value)
                finally:
                    lib.os_bytes_free(data, length)
            sink = io.BytesIO()
            self._get_stream(raw_name, sink, progress, raw_version)
            return sink.getvalue()
        if _is_path(target):
            path = _path(target)  # type: ignore[arg-type]
            state = _CallState(progress)
            with self._use() as h, _Registered(state) as key:
                callback = _PROGRESS_CALLBACK if progress else _NO_PROGRESS
                if raw_version is None:
                    status = lib.os_get_file_ex(h, raw_name, path, callback, key)
                else:
                    status = lib.os_get_version_file(h, raw_name, raw_version, path, callback, key)
                self._check(status, state)
            return None
        if hasattr(target, "write"):
            _check_binary_writer(target)
            self._get_stream(raw_name, target, progress, raw_version)
            return None
        raise TypeError(
            "target must be None, a path (str or os.PathLike) or a binary file object, "
            f"not {type(target).__name__}"
        )

    def list_versions(self, name: str) -> List[Version]:
        """The versions of ``name``, newest first, in a container with Swift's object versioning
        (an object of a container never versioned has one version, ``"null"``; a name with none
        gives ``[]``). See the README for what versioning does and does not protect against."""
        raw_name = _text(name, "the object name")
        versions = POINTER(OsObjectVersion)()
        count = c_size_t()
        with self._use() as h:
            self._check(lib.os_list_versions(h, raw_name, byref(versions), byref(count)))
        try:
            return [_version_from(versions[i]) for i in range(count.value)]
        finally:
            lib.os_versions_free(versions, count)

    def restore_version(self, name: str, version_id: str) -> None:
        """Make the version ``version_id`` of ``name`` current again (Swift points the object at
        it; no data is copied and the version that was current stays a version): restoring a
        deleted object's last version undoes the delete. A delete marker raises
        :class:`InvalidArgumentError`, a missing version :class:`NotFoundError`; nothing changes."""
        raw_name = _text(name, "the object name")
        raw_version = _text(version_id, "the version id")
        with self._use() as h:
            self._check(lib.os_restore_version(h, raw_name, raw_version))

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes of ``name`` from ``offset`` (across the segments of a large
        object too); ``b""`` when ``length`` is 0. A range that goes past the end of the object
        raises :class:`InvalidArgumentError` (never a short read), as does a negative offset or
        length."""
        raw_name = _text(name, "the object name")
        start = _count(offset, "offset")
        count = _count(length, "length")
        data = c_void_p()
        size = c_size_t()
        with self._use() as h:
            self._check(lib.os_get_range(h, raw_name, start, count, byref(data), byref(size)))
        try:
            if not data.value or not size.value:
                return b""
            return ctypes.string_at(data.value, size.value)
        finally:
            lib.os_bytes_free(data, size)

    def _get_stream(
        self,
        raw_name: bytes,
        sink: Any,
        progress: Optional[ProgressCallback],
        raw_version: Optional[bytes] = None,
    ) -> None:
        state = _CallState(progress)
        state.sink = sink
        with self._use() as h, _Registered(state) as key:
            callback = _PROGRESS_CALLBACK if progress else _NO_PROGRESS
            if raw_version is None:
                status = lib.os_get_stream(h, raw_name, _WRITE_CALLBACK, key, callback, key)
            else:
                status = lib.os_get_version_stream(
                    h, raw_name, raw_version, _WRITE_CALLBACK, key, callback, key
                )
            self._check(status, state)

    def list(self, prefix: str = "", recursive: bool = False) -> List[Entry]:
        """The entries under the destination's prefix, as a list.

        Without arguments: one level (sub-"directories" are folder entries), every page.
        ``prefix`` keeps only names starting with it (relative to the destination's prefix; it
        need not end in "/"); ``recursive`` lists every object at any depth and no folders.
        """
        if not prefix and not recursive:
            entries = POINTER(OsEntry)()
            count = c_size_t()
            with self._use() as h:
                self._check(lib.os_list(h, byref(entries), byref(count)))
            try:
                return [_entry_from(entries[i]) for i in range(count.value)]
            finally:
                lib.os_entries_free(entries, count)
        out: List[Entry] = []
        self._list_each(prefix, recursive, out.append)
        return out

    def iter_entries(self, prefix: str = "", recursive: bool = False) -> Iterator[Entry]:
        """Like :meth:`list`, entry by entry, for listings of any size (memory bounded by a page
        and a small queue). The listing runs in a helper thread while the generator is consumed;
        leaving the loop early (``break``, an exception, ``close()``) stops it."""
        raw_prefix = _text(prefix, "the prefix")
        return self._iter_entries(raw_prefix, bool(recursive))

    def _iter_entries(self, raw_prefix: bytes, recursive: bool) -> Iterator[Entry]:
        items: "queue.Queue[Tuple[int, Any]]" = queue.Queue(maxsize=_ITER_QUEUE)
        stop = threading.Event()

        def deliver(entry: Entry) -> None:
            while not stop.is_set():
                if self._closed:  # close() waits for this call: end it
                    raise ValueError("the Destination was closed during iter_entries()")
                try:
                    items.put((0, entry), timeout=0.05)
                    return
                except queue.Full:
                    continue
            raise _StopListing()

        def run() -> None:
            try:
                self._list_each_raw(raw_prefix, recursive, deliver)
                result: Tuple[int, Any] = (1, None)
            except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
                result = (2, exc)
            while not stop.is_set():
                try:
                    items.put(result, timeout=0.05)
                    return
                except queue.Full:
                    if self._closed:  # the entries still queued no longer matter
                        try:
                            items.get_nowait()
                        except queue.Empty:
                            pass

        worker = threading.Thread(target=run, name="openstack_dest-list", daemon=True)
        worker.start()
        try:
            while True:
                kind, value = items.get()
                if kind == 0:
                    yield value
                elif kind == 1:
                    return
                else:
                    raise value
        finally:
            stop.set()
            worker.join()

    def _list_each(self, prefix: str, recursive: bool, sink: Callable[[Entry], None]) -> None:
        self._list_each_raw(_text(prefix, "the prefix"), bool(recursive), sink)

    def _list_each_raw(self, raw_prefix: bytes, recursive: bool, sink: Callable[[Entry], None]) -> None:
        """os_list_each: each entry is copied into an Entry and given to ``sink``. An exception
        raised on the way stops the listing and is re-raised once the call has returned
        (_StopListing only stops it)."""
        state = _CallState(None)
        state.sink = sink
        with _Registered(state) as key, self._use() as h:
            status = lib.os_list_each(h, raw_prefix, recursive, _ENTRY_CALLBACK, key)
        if isinstance(state.error, _StopListing):
            state.error = None
        self._check(status, state)

    def delete_container(self, empty_first: bool = False) -> None:
        """Delete the container. One that still holds objects is refused with
        :class:`ContainerNotEmptyError` unless ``empty_first``, which first deletes every object in
        it (all of them, not only those under the destination's prefix)."""
        with self._use() as h:
            self._check(lib.os_delete_container(h, bool(empty_first)))

    def stat(self, name: str) -> Entry:
        """Size, ETag, times, the host's metadata and the expiry of one object (one request)."""
        raw_name = _text(name, "the object name")
        out = POINTER(OsEntry)()
        metadata: Dict[str, str] = {}

        def each(_ctx: Optional[int], key: Optional[bytes], value: Optional[bytes]) -> int:
            try:
                if key is not None:
                    metadata[key.decode("utf-8", "replace")] = (value or b"").decode("utf-8", "replace")
            except BaseException:  # noqa: BLE001 - nothing may escape into the library
                pass
            return 0

        callback = META_CB(each)  # alive until the call returns
        with self._use() as h:
            self._check(lib.os_stat_meta(h, raw_name, byref(out), callback, None))
        try:
            return _entry_from(out.contents, metadata)
        finally:
            lib.os_entry_free(out)

    def delete(self, name: str) -> None:
        """Delete one object (NotFoundError when it does not exist)."""
        raw_name = _text(name, "the object name")
        with self._use() as h:
            self._check(lib.os_delete(h, raw_name))

    def delete_many(self, names: Iterable[str]) -> int:
        """Delete many objects at once (Swift's bulk delete where the cluster offers it, else one
        DELETE each, several at a time), with the segments of large objects. Names already gone
        count as deleted. Returns how many were deleted now; raises :class:`DeleteManyError`
        (with ``failures``, a list of (name, exception)) when some could not be deleted."""
        raw = [_text(n, "an object name") for n in names]
        array = (c_char_p * max(len(raw), 1))(*raw)
        failures: List[Tuple[str, OpenStackError]] = []

        def on_failure(_ctx: Any, name: bytes, status: int, message: bytes) -> None:
            failures.append(
                (name.decode("utf-8", "replace"), error_for(status, message.decode("utf-8", "replace")))
            )

        callback = DELETE_FAILURE_CB(on_failure)
        deleted, missing = c_size_t(0), c_size_t(0)
        with self._use() as h:
            self._check(
                lib.os_delete_many_ex(h, array, len(raw), callback, None, byref(deleted), byref(missing))
            )
        if failures:
            raise DeleteManyError(failures, int(deleted.value))
        return int(deleted.value)

    def rename(self, old: str, new: str) -> None:
        """Rename an object (server-side copy, then delete)."""
        raw_old = _text(old, "the old object name")
        raw_new = _text(new, "the new object name")
        with self._use() as h:
            self._check(lib.os_rename(h, raw_old, raw_new))

    def quota(self) -> Quota:
        """The account's usage (and quota, when one is set)."""
        info = OsQuotaInfo()
        with self._use() as h:
            self._check(lib.os_quota(h, byref(info)))
        return Quota(
            bytes_used=int(info.bytes_used),
            quota_bytes=int(info.quota_bytes) if info.quota_bytes >= 0 else None,
            object_count=int(info.object_count),
            container_count=int(info.container_count),
        )


    def sweep_segments(self, older_than: timedelta = timedelta(days=1)) -> Tuple[int, int]:
        """Removes the segments no manifest references (uploads killed and never resumed leave
        them) and returns (objects removed, their bytes). Only segments this library wrote for
        this destination's container are looked at, and only those older than ``older_than``:
        a day, the default, never hits an upload in progress elsewhere."""
        seconds = older_than.total_seconds()
        if seconds < 0:
            raise _invalid("older_than must not be negative")
        removed, swept = ctypes.c_uint64(0), ctypes.c_uint64(0)
        with self._use() as h:
            self._check(lib.os_sweep_segments(h, int(seconds), byref(removed), byref(swept)))
        return int(removed.value), int(swept.value)


class _InUse:
    """Counts a running call so that close() waits for it; refuses a closed destination."""

    __slots__ = ("dest",)

    def __init__(self, dest: Destination) -> None:
        self.dest = dest

    def __enter__(self) -> int:
        dest = self.dest
        with dest._cond:
            if dest._closed or not dest._handle:
                raise ValueError("I/O operation on a closed Destination")
            dest._active += 1
            me = threading.get_ident()
            dest._callers[me] = dest._callers.get(me, 0) + 1
            return dest._handle

    def __exit__(self, *exc: object) -> None:
        dest = self.dest
        handle = None
        with dest._cond:
            dest._active -= 1
            me = threading.get_ident()
            depth = dest._callers.get(me, 0) - 1
            if depth > 0:
                dest._callers[me] = depth
            else:
                dest._callers.pop(me, None)
            if dest._active == 0:
                dest._cond.notify_all()
                if dest._closed:  # closed from inside a call: released now that none runs
                    handle, dest._handle = dest._handle, None
        if handle:
            lib.os_free(handle)
