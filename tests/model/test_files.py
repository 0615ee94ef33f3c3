"""Equal networks give byte-identical .keras files, whenever and by whichever process they are saved."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from pipeline.model.architecture import build_model
from pipeline.model.config import ModelConfig
from pipeline.model.files import save_model
from tests.repo_copy import command_env

SAVE_IN_A_NEW_PROCESS = """
import sys
from pathlib import Path
import pipeline
from pipeline.model.architecture import build_model
from pipeline.model.config import ModelConfig
from pipeline.model.files import save_model
from tests.repo_copy import command_env
save_model(build_model(6, ModelConfig(hidden_units=[4], batch_norm=True), seed=0), Path(sys.argv[1]))
"""


@pytest.mark.slow  # a Python process that loads Keras
def test_equal_networks_saved_at_different_times_are_identical_files(tmp_path: Path) -> None:
    config = ModelConfig(hidden_units=[4], batch_norm=True)
    first, second = tmp_path / "a" / "m.keras", tmp_path / "b" / "m.keras"
    save_model(build_model(6, config, seed=0), first)
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    # another process: Keras numbers shared config objects by memory address
    subprocess.run([sys.executable, "-c", SAVE_IN_A_NEW_PROCESS, str(second)], check=True, env=command_env())
    assert first.read_bytes() == second.read_bytes()

    other = tmp_path / "c" / "m.keras"
    save_model(build_model(6, config, seed=1), other)
    assert other.read_bytes() != first.read_bytes()

    loaded = keras.saving.load_model(first, compile=False)
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), build_model(6, config, seed=0).predict(x, verbose=0))
    assert list(tmp_path.glob("*/tmp*")) == []  # nothing half-written left behind
