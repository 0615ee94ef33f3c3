"""MLproject: every stage has an entry point, and `main`'s defaults are params.yaml's values."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO


def _get(tree: dict, dotted: str) -> object:
    for key in dotted.split("."):
        tree = tree[key]
    return tree


def test_main_defaults_equal_params_yaml() -> None:
    project = yaml.safe_load((REPO / "MLproject").read_text())
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    main = project["entry_points"]["main"]
    overrides = dict(re.findall(r"-S ([\w.]+)=\{(\w+)\}", main["command"]))
    assert set(overrides.values()) == set(main["parameters"]), "a parameter that overrides nothing, or the reverse"
    for key, name in overrides.items():
        default = yaml.safe_load(main["parameters"][name]["default"])
        assert default == _get(params, key), (
            f"{name}: default {default!r} but params.yaml {key} = {_get(params, key)!r}"
        )


def test_every_dvc_stage_has_an_entry_point() -> None:
    project = yaml.safe_load((REPO / "MLproject").read_text())
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert set(stages) <= set(project["entry_points"])
    assert project["conda_env"] == "conda.yaml"
