"""`make audit` says plainly whether anything was audited (issue 15: where PyPI's JSON API
cannot be reached it passed as if it had audited)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from audit import verdict  # noqa: E402


def test_the_verdict_tells_audited_vulnerable_and_not_run_apart() -> None:
    clean = "No known vulnerabilities found\n"
    assert verdict(clean, 0, 120) == (
        0, "audit: 120 of 120 packages audited, no known vulnerabilities")
    partly = ("Name Skip Reason\nwrapt Dependency not found on PyPI and could not be audited: "
              "wrapt (2.5.2)\nNo known vulnerabilities found, 1 skipped\n")
    assert verdict(partly, 0, 120) == (
        0, "audit: 119 of 120 packages audited, no known vulnerabilities; 1 could not be "
           "looked up")
    vulnerable = "Found 2 known vulnerabilities in 1 package\nName Version ID Fix Versions\n"
    assert verdict(vulnerable, 1, 120) == (1, "audit: 2 known vulnerabilities (listed above)")
    none = "x Dependency not found on PyPI and could not be audited: x (1)\n" * 3
    assert verdict(none, 0, 3)[1].startswith("audit: NOT RUN")
    crashed = ("Traceback (most recent call last):\nrequests.exceptions.ProxyError: "
               "HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded\n")
    assert verdict(crashed, 1, 120) == (
        0, "audit: NOT RUN: the vulnerability service (PyPI's JSON API) could not be reached; "
           "nothing was audited")
    assert verdict("Traceback: KeyError\n", 1, 120) == (
        1, "audit: pip-audit failed (exit 1; output above)")


def test_make_audit_says_not_run_when_the_service_cannot_be_reached() -> None:
    """A proxy that refuses every connection: the real pip-audit, the real Makefile."""
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    run = subprocess.run(["make", "--no-print-directory", "audit"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == (
        "audit: NOT RUN: the vulnerability service (PyPI's JSON API) could not be reached; "
        "nothing was audited")
