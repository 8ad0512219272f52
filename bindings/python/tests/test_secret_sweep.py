"""The secret sweep's driver: the cases are the table tests/secret_sweep.txt, shared by every binding.

A distinctive secret goes in as every option that can hold one and as the userinfo of the
URL-valued options, through URLs and options the parser refuses, wrong credentials at the real
Keystone (v3 and the v2 front end) and Swift, and closed ports. It must never appear in an
exception (message, args, attributes, str, repr, formatted traceback) nor in any log line the
library sends to the ``openstack_dest`` logger at DEBUG. The parser's messages must still name
what is wrong.
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

import pytest

from openstack_dest import Destination, OpenStackError, Status

from conftest import REPO_ROOT, Server

SECRET = "Sw33p-" + secrets.token_hex(8)
#: The userinfo password of URL-valued options: never given as a secret option too, so that the
#: library cannot scrub it only because it learned it as one.
URL_SECRET = "Ur1nfo-" + secrets.token_hex(8)


def _texts(err: BaseException) -> List[str]:
    """Everything a caller can read off an exception."""
    out = [str(err), repr(err), "".join(traceback.format_exception(type(err), err, err.__traceback__))]
    out += [repr(a) for a in err.args] + [f"{k}={v!r}" for k, v in vars(err).items()]
    return out + [text for linked in (err.__cause__, err.__context__) if linked for text in (str(linked), repr(linked))]


def _cases(kind: str, server: Optional[Server], container: str) -> List[Tuple[str, str, str, str, Dict[str, str]]]:
    """(id, status, check, url, options) of one kind from the table, placeholders replaced."""
    if server is None:  # the parse cases need no server
        server = Server({f"OSD_{k}": "http://-" for k in ("USER", "PROJECT", "AUTH_V3", "AUTH_V2", "SWIFT1")})
    values = {"{S}": SECRET, "{U}": URL_SECRET, "{CONT}": container, "{USER}": quote(server.user),
              "{PROJECT}": quote(server.project)}
    for key, url in (("AUTH_V3", server.auth_v3), ("AUTH_V2", server.auth_v2), ("SWIFT", server.swift1)):
        values["{%s}" % key] = url
        values["{%s_UI}" % key] = url.replace("://", f"://proxyuser:{URL_SECRET}@", 1)  # userinfo
    placeholders = re.compile("|".join(re.escape(k) for k in sorted(values, key=len, reverse=True)))

    def fill(text: str) -> str:
        return placeholders.sub(lambda m: values[m.group(0)], text)

    cases = []
    for line in (REPO_ROOT / "tests" / "secret_sweep.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        what, case, status, check, url, *opts = line.split("\t")
        assert what in ("parse", "server"), line
        if what == kind:
            cases.append((case, status, check, fill(url), dict(fill(o).split("=", 1) for o in opts)))
    assert len(cases) >= 10, f"secret_sweep.txt holds {len(cases)} {kind} cases"
    return cases


def _leaks(text: str) -> bool:
    return SECRET in text or URL_SECRET in text or "proxyuser" in text


class _Problems(List[str]):
    def error(self, case: str, err: OpenStackError) -> None:
        self += [f"LEAK {case}: exception shows the secret: {text}" for text in _texts(err) if _leaks(text)][:1]

    def logs(self, case: str, caplog: Any) -> int:
        """Checks the log lines since the last call, and forgets them; returns how many."""
        lines = [r.getMessage() for r in caplog.records if r.name == "openstack_dest"]
        self += [f"LEAK {case}: log line shows the secret: {line}" for line in lines if _leaks(line)]
        caplog.clear()
        return len(lines)


def test_secret_sweep_parse(caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="openstack_dest")
    problems = _Problems()
    for case, status, check, url, options in _cases("parse", None, "c"):
        try:
            Destination(url, options or None).close()
            problems.append(f"{case}: opened")
        except OpenStackError as err:
            problems.error(case, err)
            if err.status != Status[status] or err.http_status is not None or not str(err):
                problems.append(f"{case}: {err!r}, expected status {status}, no HTTP status, a message")
            elif check != "-" and check.lower() not in str(err).lower():
                problems.append(f"{case}: the message does not name '{check}': {err}")
        problems.logs(case, caplog)
    assert not problems, "\n".join(problems)


@pytest.mark.server
def test_secret_sweep(server: Server, container: str, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="openstack_dest")
    problems = _Problems()
    calls: Dict[str, Callable[[Destination], object]] = {"test": lambda d: d.test(), "list": lambda d: d.list(),
        "put": lambda d: d.put("sweep.bin", b"x"), "get": lambda d: d.get("sweep.bin"), "quota": lambda d: d.quota()}
    seen = 0
    for case, status, check, url, options in _cases("server", server, container):
        try:
            d = Destination(url, options or None)
        except OpenStackError as err:
            problems.error(case, err)
            problems.append(f"{case}: open failed: {err}")
            seen += problems.logs(case, caplog)
            continue
        with d:
            for what, call in calls.items():
                try:
                    call(d)
                    problems.append(f"{case}/{what}: succeeded")
                except OpenStackError as err:
                    problems.error(f"{case}/{what}", err)
                    if err.status != Status[status] or (err.http_status or 0) != int(check):
                        problems.append(f"{case}/{what}: {err!r}, expected {status} with HTTP {check}")
        seen += problems.logs(case, caplog)
    # The retries against the closed ports log warnings: proof that the log path was watched.
    assert seen > 0, "no log line reached the openstack_dest logger"
    assert not problems, "\n".join(problems)
