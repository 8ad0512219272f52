"""One secret, every option that can hold one, every error path this binding can reach.

A distinctive secret goes in as auth-password, openstack-apikey, openstack-auth-token,
openstack-application-credential-secret, the URL's userinfo password and the userinfo password of
the URL-valued options (openstack-authuri, openstack-storage-url), through URLs the parser
refuses, options it refuses, a wrong password at the real Keystone (v3 and the v2 front end), a
wrong token at the real Swift, and closed ports. It must never appear in an exception (message,
args, attributes, str, repr, formatted traceback) nor in any log line the library sends to the
``openstack_dest`` logger at DEBUG. The parser's messages must still name what is wrong.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from typing import Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

import pytest

from openstack_dest import AuthError, Destination, InvalidUrlError, NetworkError, OpenStackError, Status

from conftest import Server, SwiftAdmin

pytestmark = pytest.mark.server

SECRET = "Sw33p-" + secrets.token_hex(8)
#: The userinfo password of URL-valued options: never given as a secret option too, so that the
#: library cannot scrub it only because it learned it as one.
URL_SECRET = "Ur1nfo-" + secrets.token_hex(8)
CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port
FAST = "number-of-retries=0&short-timeout=5s&read-write-timeout=5s"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def log_lines() -> Iterator[List[str]]:
    log = logging.getLogger("openstack_dest")
    handler = _Lines()
    old_level = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


def _texts(err: BaseException) -> List[str]:
    """Everything a caller can read off an exception."""
    out = [str(err), repr(err), "".join(traceback.format_exception(type(err), err, err.__traceback__))]
    out += [repr(a) for a in err.args]
    out += [f"{k}={v!r}" for k, v in vars(err).items()]
    for linked in (err.__cause__, err.__context__):
        if linked is not None:
            out += [str(linked), repr(linked)]
    return out


def _userinfo(url: str, secret: str) -> str:
    """``url`` with ``proxyuser:secret@`` in front of its host."""
    return url.replace("://", f"://proxyuser:{secret}@", 1)


def _parse_cases(q: str, dead: str) -> List[Tuple[str, str, Optional[Dict[str, str]], str]]:
    """(id, url, options, word the message must contain) for URLs and options the parser refuses."""
    s = SECRET
    pw = f"{q}&auth-password={s}"
    return [
        ("wrong-scheme", f"s3://c/p?{pw}&openstack-authuri={dead}", None, "openstack://"),
        ("wrong-scheme-userinfo", f"s3://u:{s}@c/p?{q}&openstack-authuri={dead}", None, "openstack://"),
        ("one-slash", f"openstack:/c?auth-password={s}&openstack-authuri={dead}", None, "openstack://"),
        ("one-slash-full", f"openstack:/c/p?{pw}&openstack-authuri={dead}", None, "openstack://"),
        ("one-slash-userinfo", f"openstack:/u:{s}@c/p?{q}&openstack-authuri={dead}", None, "openstack://"),
        ("no-slash-userinfo", f"openstack:u:{s}@c/p?{q}&openstack-authuri={dead}", None, "openstack://"),
        ("no-scheme", f"c/p?{pw}&openstack-authuri={dead}", None, "openstack://"),
        ("no-scheme-userinfo", f"u:{s}@c/p?{q}&openstack-authuri={dead}", None, "openstack://"),
        ("no-container", f"openstack:///p?{pw}&openstack-authuri={dead}", None, "container"),
        ("no-container-userinfo", f"openstack://u:{s}@/p?{q}&openstack-authuri={dead}", None, "container"),
        ("bad-short-timeout", f"openstack://c/p?{pw}&openstack-authuri={dead}&short-timeout=banana", None, "short-timeout"),
        ("bad-rw-timeout", f"openstack://c/p?{pw}&openstack-authuri={dead}&read-write-timeout=-3s", None, "read-write-timeout"),
        ("bad-list-timeout", f"openstack://c/p?{pw}%2B%25&openstack-authuri={dead}&list-timeout=12parsecs", None, "list-timeout"),
        ("bad-retries", f"openstack://u:{s}@c/p?{q}&openstack-authuri={dead}&number-of-retries=many", None, "number-of-retries"),
        ("bad-retry-delay", f"openstack://c/p?{pw}&openstack-authuri={dead}&openstack-application-credential-secret={s}&retry-delay=soon", None, "retry-delay"),
        ("bad-version", f"openstack://c/p?{pw}&openstack-authuri={dead}&openstack-version=v9", None, "openstack-version"),
        ("bad-authuri", f"openstack://c/p?{pw}&openstack-authuri=not-a-uri", None, "openstack-authuri"),
        ("bad-authuri-scheme", f"openstack://c/p?{pw}&openstack-authuri=ftp://h/v3", None, "openstack-authuri"),
        ("apikey-with-v3", f"openstack://c/p?{q}&openstack-apikey={s}&openstack-authuri={dead}", None, "openstack-apikey"),
        ("token-without-storage-url", f"openstack://c/p?openstack-auth-token={s}", None, "openstack-storage-url"),
        ("bad-storage-url", f"openstack://c/p?openstack-storage-url=not-a-url&openstack-auth-token={s}", None, "openstack-storage-url"),
        ("app-secret-no-password", f"openstack://c/p?{q}&openstack-application-credential-secret={s}&openstack-authuri={dead}", None, "auth-password"),
        ("authuri-userinfo-bad-scheme", f"openstack://c/p?{q}&auth-password=p&openstack-authuri=ftp://proxyuser:{URL_SECRET}@h/v3", None, "openstack-authuri"),
        ("authuri-userinfo-bad-timeout", f"openstack://c/p?{q}&auth-password=p&openstack-authuri={_userinfo(dead, URL_SECRET)}&short-timeout=banana", None, "short-timeout"),
        ("storage-url-userinfo-no-token", f"openstack://c/p?openstack-storage-url={_userinfo(CLOSED, URL_SECRET)}/v1/AUTH_x", None, "openstack-auth-token"),
        (
            "options-map-url-userinfo",
            "openstack://c/p?list-timeout=banana",
            {"auth-username": "u", "auth-password": "p", "openstack-authuri": _userinfo(dead, URL_SECRET), "openstack-storage-url": _userinfo(CLOSED, URL_SECRET)},
            "list-timeout",
        ),
        (
            "options-map-password",
            "openstack://c/p?short-timeout=banana",
            {
                "auth-username": "u",
                "auth-password": s,
                "openstack-application-credential-secret": s,
                "openstack-tenant-name": "p",
                "openstack-domain-name": "Default",
                "openstack-authuri": dead,
            },
            "short-timeout",
        ),
        (
            "options-map-apikey",
            "openstack://c/p?openstack-version=v9",
            {"auth-username": "u", "openstack-apikey": s, "openstack-authuri": CLOSED + "/v2.0"},
            "openstack-version",
        ),
        (
            "options-map-token",
            "openstack://c/p?read-write-timeout=banana",
            {"openstack-storage-url": CLOSED + "/v1/AUTH_x", "openstack-auth-token": s},
            "read-write-timeout",
        ),
    ]


def _server_cases(server: Server, container: str, storage_url: str) -> List[Tuple[str, str, Optional[Dict[str, str]], type, Optional[int]]]:
    """(id, url, options, exception class, HTTP status) for destinations that open but cannot work."""
    s = SECRET
    user, project = quote(server.user), quote(server.project)
    v3 = f"openstack-tenant-name={project}&openstack-domain-name=Default&openstack-authuri={server.auth_v3}&{FAST}"
    v2 = f"openstack-tenant-name={project}&openstack-authuri={server.auth_v2}&{FAST}"
    c = container
    return [
        ("v3-wrong-password", f"openstack://{c}/p?auth-username={user}&auth-password={s}&{v3}", None, AuthError, 401),
        ("v3-wrong-userinfo-password", f"openstack://{user}:{s}@{c}/p?{v3}", None, AuthError, 401),
        ("v3-wrong-password-in-map", f"openstack://{c}/p?auth-username={user}&{v3}", {"auth-password": s}, AuthError, 401),
        (
            "v3-app-secret-and-wrong-password",
            f"openstack://{c}/p?auth-username={user}&auth-password={s}&openstack-application-credential-secret={s}&{v3}",
            None,
            AuthError,
            401,
        ),
        ("v2-wrong-password", f"openstack://{c}/p?auth-username={user}&auth-password={s}&{v2}", None, AuthError, 401),
        ("v2-wrong-apikey", f"openstack://{c}/p?auth-username={user}&openstack-apikey={s}&{v2}", None, AuthError, 401),
        ("v2-wrong-userinfo-password", f"openstack://{user}:{s}@{c}/p?{v2}", None, AuthError, 401),
        ("swift-wrong-token", f"openstack://{c}/p?openstack-storage-url={storage_url}&openstack-auth-token={s}&{FAST}", None, AuthError, 401),
        ("v3-authuri-userinfo", f"openstack://{c}/p?auth-username={user}&auth-password=Wrong-pw&{v3.replace(server.auth_v3, _userinfo(server.auth_v3, URL_SECRET))}", None, AuthError, 401),
        ("v2-authuri-userinfo", f"openstack://{c}/p?auth-username={user}&auth-password=Wrong-pw&{v2.replace(server.auth_v2, _userinfo(server.auth_v2, URL_SECRET))}", None, AuthError, 401),
        (
            "swift-storage-url-userinfo",
            f"openstack://{c}/p?openstack-storage-url={_userinfo(storage_url, URL_SECRET)}&openstack-auth-token=Wrong-token&{FAST}",
            None,
            AuthError,
            401,
        ),
        (
            "keystone-closed-port-userinfo",
            f"openstack://{c}/p?auth-username=u&auth-password=p&openstack-tenant-name=p&openstack-domain-name=Default"
            f"&openstack-authuri={_userinfo(CLOSED, URL_SECRET)}/v3&number-of-retries=1&retry-delay=10ms",
            None,
            NetworkError,
            None,
        ),
        ("swift-closed-port", f"openstack://{c}/p?openstack-storage-url={CLOSED}/v1/AUTH_x&openstack-auth-token={s}&{FAST}", None, NetworkError, None),
        (
            "keystone-v3-closed-port",
            f"openstack://u:{s}@{c}/p?openstack-tenant-name=p&openstack-domain-name=Default&openstack-authuri={CLOSED}/v3"
            f"&openstack-application-credential-secret={s}&number-of-retries=1&retry-delay=10ms",
            None,
            NetworkError,
            None,
        ),
        (
            "keystone-v2-closed-port",
            f"openstack://{c}/p?auth-username=u&openstack-apikey={s}&openstack-authuri={CLOSED}/v2.0&number-of-retries=1&retry-delay=10ms",
            None,
            NetworkError,
            None,
        ),
    ]


def test_secret_never_leaves_the_library(
    server: Server, swift_admin: SwiftAdmin, container: str, log_lines: List[str]
) -> None:
    problems: List[str] = []

    def check_error(case: str, err: OpenStackError) -> None:
        for text in _texts(err):
            if SECRET in text or URL_SECRET in text or "proxyuser" in text:
                problems.append(f"LEAK {case}: exception shows the secret: {text}")
                return

    seen = [0]

    def check_logs(case: str) -> None:
        seen[0] += len(log_lines)
        for line in log_lines:
            if SECRET in line or URL_SECRET in line or "proxyuser" in line:
                problems.append(f"LEAK {case}: log line shows the secret: {line}")
        log_lines.clear()

    q = "auth-username=u&openstack-tenant-name=p&openstack-domain-name=Default"
    for case, url, options, word in _parse_cases(q, CLOSED + "/v3"):
        try:
            Destination(url, options).close()
            problems.append(f"{case}: opened")
            continue
        except OpenStackError as err:
            check_error(case, err)
            if not isinstance(err, InvalidUrlError) or err.status != Status.INVALID_URL:
                problems.append(f"{case}: {err!r}, expected InvalidUrlError")
            elif word.lower() not in str(err).lower():
                problems.append(f"{case}: the message does not name '{word}': {err}")
        check_logs(case)

    calls: List[Tuple[str, Callable[[Destination], object]]] = [
        ("test", lambda d: d.test()),
        ("list", lambda d: d.list()),
        ("put", lambda d: d.put("sweep.bin", b"x")),
        ("get", lambda d: d.get("sweep.bin")),
    ]
    for case, url, options, cls, http in _server_cases(server, container, swift_admin.storage_url):
        try:
            d = Destination(url, options)
        except OpenStackError as err:
            check_error(case, err)
            problems.append(f"{case}: open failed: {err}")
            check_logs(case)
            continue
        with d:
            for what, call in calls:
                try:
                    call(d)
                    problems.append(f"{case}/{what}: succeeded")
                except OpenStackError as err:
                    check_error(f"{case}/{what}", err)
                    if not isinstance(err, cls) or err.http_status != http:
                        problems.append(f"{case}/{what}: {err!r}, expected {cls.__name__} with HTTP {http}")
        check_logs(case)

    # The retries against the closed ports log warnings: proof that the log path was watched.
    assert seen[0] > 0, "no log line reached the openstack_dest logger"
    assert not problems, "\n".join(problems)


def test_userinfo_of_a_working_storage_url_is_never_logged(
    server: Server, swift_admin: SwiftAdmin, container: str, log_lines: List[str]
) -> None:
    """A storage URL with userinfo that works (credentials from Keystone, the storage URL given):
    the info line that names the endpoint, Debug-ish reprs and results never show the userinfo."""
    storage = _userinfo(swift_admin.storage_url, URL_SECRET)
    with Destination(server.v3_url(container), {"openstack-storage-url": storage}) as d:
        d.create_container()
        d.put("ui.bin", b"userinfo")
        assert d.get("ui.bin") == b"userinfo"
        texts = [repr(d), repr(d.list()), repr(d.stat("ui.bin"))]
        d.delete("ui.bin")
    assert any("Swift endpoint" in line for line in log_lines), log_lines
    for text in texts + log_lines:
        assert URL_SECRET not in text and "proxyuser" not in text, text
