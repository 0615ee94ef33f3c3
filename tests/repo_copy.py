"""A private copy of this repository, for tests that run DVC or the CLI as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def command_env(**extra: str) -> dict[str, str]:
    """The environment a user has after activating .venv, without this session's MLflow settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=command_env(**extra_env), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def copy_repository(dest: Path, pull_data: bool = True) -> Path:
    """Copy the tracked and untracked-but-not-ignored files, commit them, point DVC at the team store."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    dest.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "copy"], dest)
    run(["dvc", "remote", "modify", "--local", "storage", "url", str(SHARED / "dvc-storage")], dest)
    if pull_data:
        run(["dvc", "pull", "-q", "data/raw/teleconnect.csv.dvc"], dest)
    return dest
