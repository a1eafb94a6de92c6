"""Runs the `sluice` client commands (src/cli) for the test_cli_*.py tests."""

import json
import os
import subprocess

import pytest

DEFAULT_TIMEOUT_S = 60


def sluice_bin():
    binary = os.environ.get("SLUICE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip(f"SLUICE_BIN is not an executable sluice binary ({binary!r})")
    return binary


def run(*args, input=None, timeout=DEFAULT_TIMEOUT_S):
    """Runs `sluice ARGS...`; returns the CompletedProcess (stdout/stderr as bytes)."""
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run([sluice_bin(), *map(str, args)], input=input, capture_output=True,
                          timeout=timeout)


def ok(*args, **kw):
    """Runs a command that must succeed; returns its stdout as text."""
    r = run(*args, **kw)
    assert r.returncode == 0, (f"sluice {' '.join(map(str, args))} exited {r.returncode}\n"
                               f"stdout: {r.stdout.decode(errors='replace')}\n"
                               f"stderr: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def fails(*args, code=1, **kw):
    """Runs a command that must fail with `code`; returns its stderr as text."""
    r = run(*args, **kw)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == code, (f"sluice {' '.join(map(str, args))} exited {r.returncode}, "
                                  f"expected {code}\nstdout: {r.stdout.decode(errors='replace')}\n"
                                  f"stderr: {err}")
    return err


def ok_json(*args, **kw):
    return json.loads(ok(*args, **kw))


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]
