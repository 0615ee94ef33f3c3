"""Trained networks as ``.keras`` files whose bytes depend only on the network.

Keras stamps each file with the time it was saved (the zip entries' times and
``metadata.json``'s ``date_saved``) and numbers the objects its config shares (a layer's dtype
policy) by their memory address (``shared_object_id``), so two processes that train identical
weights would write different files, and DVC would see different outputs. Here the stamps are
fixed and the shared objects numbered in order of appearance.
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
                elif info.filename == "config.json":
                    data = json.dumps(_number_shared_objects(json.loads(data), {})).encode()
                entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
                entry.external_attr = 0o644 << 16
                target.writestr(entry, data, compress_type=info.compress_type)
        os.replace(fixed, path)


def _number_shared_objects(node: object, numbers: dict[int, int]) -> object:
    """The same config with every ``shared_object_id`` (a memory address) replaced by 1, 2, ...
    in order of first appearance, so objects shared before are shared after."""
    if isinstance(node, dict):
        out: dict[object, object] = {}
        for key, value in node.items():
            if key == "shared_object_id":
                out[key] = numbers.setdefault(value, len(numbers) + 1)
            else:
                out[key] = _number_shared_objects(value, numbers)
        return out
    if isinstance(node, list):
        return [_number_shared_objects(item, numbers) for item in node]
    return node
