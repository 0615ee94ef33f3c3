"""Trained networks as ``.keras`` files whose bytes depend only on the network.

Keras stamps each file with the time it was saved (the zip entries' times and
``metadata.json``'s ``date_saved``), so two machines that train identical weights would
write different files, and DVC would see different outputs. Here the stamps are fixed.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def save_model(model: keras.Model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        saved = Path(tmp) / path.name
        model.save(saved)
        fixed = Path(tmp) / f"fixed-{path.name}"
        with zipfile.ZipFile(saved) as source, zipfile.ZipFile(fixed, "w") as target:
            for info in sorted(source.infolist(), key=lambda i: i.filename):
                data = source.read(info)
                if info.filename == "metadata.json":
                    metadata = json.loads(data)
                    metadata["date_saved"] = "1980-01-01@00:00:00"
                    data = json.dumps(metadata, sort_keys=True).encode()
                entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
                entry.external_attr = 0o644 << 16
                target.writestr(entry, data, compress_type=info.compress_type)
        os.replace(fixed, path)
