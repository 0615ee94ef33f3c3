"""Executing the study notebook headless (nbclient), against a project's registry."""

from __future__ import annotations

import os
from pathlib import Path

NOTEBOOK = Path("notebooks/otomoto_ann_optimization.ipynb")


def execute(notebook: Path, project: Path, retrain_epochs: int = 0, output: Path | None = None) -> Path:
    """Run every cell with ``project`` as the working project; write the executed notebook to ``output``
    (default: in place). A failing cell raises ``nbclient.exceptions.CellExecutionError``."""
    try:
        import nbclient
        import nbformat
    except ImportError as err:
        raise RuntimeError("executing the notebook needs the dev extras: pip install -e '.[dev]'") from err

    from pipeline.io import write_atomic

    book = nbformat.read(notebook, as_version=4)
    env = {"NOTEBOOK_PROJECT": str(project.resolve()), "NOTEBOOK_RETRAIN_EPOCHS": str(retrain_epochs)}
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(
            book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
        )
        client.execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    target = output or notebook
    write_atomic(target, lambda tmp: nbformat.write(book, tmp))
    return target
