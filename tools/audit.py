"""Audit the installed packages for known vulnerabilities and say plainly what was audited.

    .venv/bin/python tools/audit.py        (what `make audit` runs)

pip-audit asks PyPI's JSON API about every installed package. Where that service cannot be
reached (a machine without the internet, a proxy that refuses), pip-audit either stops with a
connection error or lists every package as "could not be audited"; either way nothing was
audited, and this says so in one line beginning "audit: NOT RUN" instead of passing as if it
had. A known vulnerability fails (exit 1); a package it could not look up is counted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
UNREACHABLE = ("ConnectionError", "ProxyError", "Max retries exceeded", "NameResolutionError",
               "Temporary failure in name resolution", "Network is unreachable", "timed out")


def verdict(output: str, returncode: int, installed: int) -> tuple[int, str]:
    """Return (exit code, the line to print) for pip-audit's output and exit code."""
    found = re.search(r"Found (\d+) known vulnerabilit", output)
    if found:
        return 1, f"audit: {found.group(1)} known vulnerabilities (listed above)"
    skipped = output.count("could not be audited")
    if (returncode != 0 and any(words in output for words in UNREACHABLE)) or (
            installed and skipped >= installed):
        return 0, ("audit: NOT RUN: the vulnerability service (PyPI's JSON API) could not be "
                   "reached; nothing was audited")
    if returncode != 0:
        return returncode, f"audit: pip-audit failed (exit {returncode}; output above)"
    audited = installed - skipped
    tail = f"; {skipped} could not be looked up" if skipped else ""
    return 0, f"audit: {audited} of {installed} packages audited, no known vulnerabilities{tail}"


def main() -> int:
    """Run pip-audit, print its output (unless nothing was audited) and the verdict."""
    installed = len(subprocess.run([str(BIN / "pip"), "list", "--format", "freeze"],
                                   capture_output=True, text=True, check=False
                                   ).stdout.splitlines())
    run = subprocess.run([str(BIN / "pip-audit"), "--local", "--progress-spinner", "off",
                          "--desc", "off"], capture_output=True, text=True, check=False)
    output = run.stdout + run.stderr
    code, line = verdict(output, run.returncode, installed)
    if not line.startswith("audit: NOT RUN"):
        print(output, end="")  # the list, or the failure
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
