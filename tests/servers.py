"""Real server processes for tests: a free loopback port, start, wait until it answers, stop; and a
throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
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
    """Start ``cmd``; yield once ``ready_url`` answers 200; terminate it afterwards. Its output goes to a
    file, not a pipe: a pipe nobody reads fills up with a busy server's log and blocks it."""
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    output.seek(0)
                    raise AssertionError(f"{cmd[:4]} exited: {output.read().decode()[-3000:]}")
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


def post_json(url: str, body: bytes) -> tuple[int, str]:
    """POST a JSON body; the status and text of the answer, errors included."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


POSTGRES_VERSIONS = Path("/usr/lib/postgresql")  # Debian keeps initdb and pg_ctl off PATH, under <version>/bin
UNPRIVILEGED = "nobody"  # PostgreSQL refuses to run as root


def postgres_binaries() -> Path | None:
    """The folder with the newest installed PostgreSQL server's initdb and pg_ctl, or None."""
    found = sorted(
        POSTGRES_VERSIONS.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@contextmanager
def postgres(binaries: Path) -> Iterator[str]:
    """A throwaway cluster on 127.0.0.1 at a free port, trusting local connections; yields its URL
    (``postgresql://postgres@127.0.0.1:<port>``) and deletes it afterwards. As root, the cluster
    belongs to an unprivileged user, in a temporary folder that user owns."""
    folder = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
    as_user = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED)
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", UNPRIVILEGED, "--"]
    data, port = folder / "data", free_port()

    def run(*cmd: str) -> None:
        result = subprocess.run([*as_user, *cmd], cwd=folder, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd[:2])} failed: {result.stdout}{result.stderr}")

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder}"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """A new, empty database on ``server``; returns its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:  # not in a transaction
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
