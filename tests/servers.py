"""Real server processes for tests: a free loopback port, start, wait until it answers, stop."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(cmd: list[str], cwd: Path, env: dict[str, str], ready_url: str, timeout: float = 180) -> Iterator[None]:
    """Start ``cmd``; yield once ``ready_url`` answers 200; terminate it afterwards."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{cmd[:4]} exited: {proc.stdout.read().decode()[-3000:]}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            raise AssertionError(f"{ready_url} did not answer within {timeout:.0f} s")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)
