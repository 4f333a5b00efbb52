"""Where the app is served, and the address a phone can open.

QR codes carry ``BASE_URL``. ``http://127.0.0.1:5000`` works only on the machine itself, so a
phone that scans such a code opens nothing. When ``SURVEY_BASE_URL`` is not set, the base URL
follows the address ``make run`` / ``make serve`` bind (``SURVEY_LISTEN_HOST``,
``SURVEY_LISTEN_PORT``): the port always, and for ``HOST=0.0.0.0`` the machine's address on the
local network. ``make run``/``make serve`` also record that host and port (``flask address
--record`` writes ``instance/serving.json``), so that a command run later in another terminal
(``flask units list``, ``flask qr``) prints the same addresses without the Makefile's variables;
the environment still wins. Plain functions, no Flask: the Makefile's banner and the config both
use them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 5000
ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 - names of "every interface", not a bind here


def lan_address() -> str | None:
    """Return this machine's IPv4 address on the local network, or None when it has none.

    Connecting a UDP socket sends no packet; it only asks the kernel which interface would
    route to a private address, and that interface's address is the one phones on the same
    Wi-Fi reach.
    """
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                address = str(sock.getsockname()[0])
        except OSError:
            continue
        if _usable(address):
            return address
    try:
        candidates = socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        candidates = []
    return next((a for a in candidates if _usable(a)), None)


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local)


def is_loopback_host(host: str) -> bool:
    """Return whether ``host`` names this machine only (127.x, ::1, localhost)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Return whether a phone could not open ``url`` because it names this machine only."""
    return is_loopback_host(urlsplit(url).hostname or "")


def base_url_for(host: str | None, port: int | str | None,
                 lan: Callable[[], str | None] = lan_address) -> str:
    """Return the base URL for an app bound to ``host:port``.

    Any address (``0.0.0.0``) gives the LAN address when the machine has one; a loopback host
    gives ``127.0.0.1``; another host is kept as it is.
    """
    port = int(port) if port not in (None, "") else DEFAULT_PORT
    host = (host or LOOPBACK).strip()
    if host in ANY_ADDRESS:
        host = lan() or LOOPBACK
    elif is_loopback_host(host):
        host = LOOPBACK
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


def record_serving(path: Path | str, host: str, port: int | str) -> None:
    """Write the host and port being served to ``path``, replacing it whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".serving-")
    with os.fdopen(fd, "w") as out:
        json.dump({"host": host, "port": int(port)}, out)
    Path(temporary).replace(path)


def read_serving(path: Path | str) -> tuple[str, int] | None:
    """Return the host and port ``record_serving`` wrote, or None (no file, or not ours)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        host, port = str(data["host"]), int(data["port"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return (host, port) if 0 < port < 65536 else None


def banner(host: str, port: int | str, base_url: str,
           lan: Callable[[], str | None] = lan_address) -> list[str]:
    """Return the lines ``make run`` prints before serving: where to open, what QR codes hold."""
    local = f"http://{LOOPBACK}:{int(port)}"
    lines = [f"Serving on {local} (this machine; Ctrl+C to stop)"]
    open_to_all = host.strip() in ANY_ADDRESS
    if open_to_all:
        lines.append(f"Phones on the same network open: {base_url_for(host, port, lan)}")
    lines.append(f"QR codes, posters and printed sheets point at: {base_url}")
    if is_loopback_url(base_url):
        address = lan()
        lines.append("WARNING: a phone cannot open 127.0.0.1 (it means the phone itself), so "
                     "QR codes will not work from a phone.")
        if open_to_all:
            lines.append("  No network address found: connect this machine to the Wi-Fi or "
                         "LAN, or set SURVEY_BASE_URL to an address phones can open.")
        elif address:
            lines.append(f"Phones on the same network: run `make run HOST=0.0.0.0 PORT={port}`, "
                         f"then open http://{address}:{int(port)} (QR codes will point there)")
        else:
            lines.append("  For phones: make run HOST=0.0.0.0 on a machine connected to the "
                         "network, or set SURVEY_BASE_URL to an address phones can open.")
    return lines
