"""``schema draft``: a schema drafted from a CSV loads, and ``prepare`` accepts it (for the project's
data and for a differently shaped dataset, after only the steps docs/ADAPT.md names); bad input
is refused with a message naming the file, the column and the rule."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Params
from pipeline.data.draft import draft
from pipeline.data.schema import ROW, DataSchema
from pipeline.stages import prepare
from tests.conftest import REPO, set_params, use_project
from tests.other_churn import PARAMS, STATES, make_other_customers, set_dotted
from tests.repo_copy import run


def _draft(csv: Path, target: str, output: Path) -> tuple[int, str]:
    """The command as a user types it, in-process (``main`` returns the exit code)."""
    return main(["--params", str(REPO / "params.yaml"), "schema", "draft", str(csv), "--target", target,
                 "--output", str(output)])  # fmt: skip


def _project(root: Path, csv: Path, schema: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project as docs/ADAPT.md sets one up: the repo's params, the user's CSV and drafted schema."""
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(csv, root / "data" / "raw" / csv.name)
    shutil.copy(schema, root / "data" / "schema.yaml")
    set_params(root, {"paths": {"raw_data": f"data/raw/{csv.name}"}})
    use_project(root, monkeypatch)
    return root


@pytest.mark.real_data
def test_the_project_data_drafts_into_a_schema_prepare_accepts(
    tmp_path: Path, schema: DataSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "schema.yaml"
    assert _draft(REPO / "data" / "raw" / "teleconnect.csv", "Churn", output) == 0
    text = output.read_text()
    drafted = DataSchema.from_yaml(output)
    assert drafted.id_column == "customerID"
    assert (drafted.target.positive, drafted.target.negative) == ("Yes", "No")
    assert drafted.categorical == schema.categorical  # every level, in the contract's order
    assert drafted.binary["SeniorCitizen"].positive == "1"  # the 0/1 flag: one input, as the numeric 0..1 was
    assert drafted.numeric["tenure"].integer and drafted.numeric["tenure"].max == 80  # 72 + 10 % of the span
    assert "# review: blanks filled with the median" in text  # TotalCharges' 11 blanks: the one review note
    assert [line for line in text.splitlines() if line.strip().startswith("# review:")] == [
        "  # review: blanks filled with the median 1397.47; if a blank means something (e.g. never billed), "
        "say when with blank_allowed_when and the value it stands for"
    ]
    root = _project(tmp_path / "project", REPO / "data" / "raw" / "teleconnect.csv", output, monkeypatch)
    prepare.run(Params.load())  # review notes left as drafted: the median fill is a valid contract
    manifest = json.loads((root / "data" / "prepared" / "manifest.json").read_text())
    assert manifest["rows"] == 7043 and manifest["blank_filled"] == {"TotalCharges": 11}
    hand_written = [*schema.numeric_inputs, *(f"{c}={v}" for c, levels in schema.categorical.items() for v in levels)]
    assert sorted(manifest["features"]) == sorted(hand_written)  # the same 45 model inputs


def test_a_differently_shaped_dataset_drafts_into_a_schema_prepare_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = tmp_path / "customers.csv"
    make_other_customers(n=800, seed=0).to_csv(csv, index=False)
    output = tmp_path / "schema.yaml"
    assert _draft(csv, "churned", output) == 0
    drafted = DataSchema.from_yaml(output)
    assert drafted.id_column is None and drafted.record_id == ROW
    assert (drafted.target.positive, drafted.target.negative) == ("yes", "no")
    assert list(drafted.numeric) == ["account_weeks", "day_minutes", "evening_minutes", "annual_fee"]
    assert drafted.binary["has_app"].positive == "true"
    assert drafted.dates["signup_date"].format == "%Y-%m-%d"
    assert drafted.categorical["state"] == STATES
    assert drafted.categorical["support_calls"] == [str(k) for k in range(9)]  # a numeric-looking code
    assert drafted.categorical["plan_tier"] == ["basic", "plus", "premium", "(missing)"]
    assert drafted.missing_level == {"plan_tier": "(missing)"}
    lines = output.read_text().splitlines()
    reviewed = [
        lines[i - 1].strip().split(":")[0] for i, line in enumerate(lines) if line.strip().startswith("# review:")
    ]
    assert reviewed == ["# signup_date", "# state", "# support_calls"]  # the unsure guesses, and only they

    root = _project(tmp_path / "project", csv, output, monkeypatch)
    set_dotted(root / "params.yaml", PARAMS)  # docs/ADAPT.md, step 3
    prepare.run(Params.load())
    manifest = json.loads((root / "data" / "prepared" / "manifest.json").read_text())
    assert manifest["rows"] == 800
    assert "plan_tier=(missing)" in manifest["features"] and "signup_date" in manifest["features"]
    train = pd.read_parquet(root / "data" / "prepared" / "train.parquet")
    assert train[ROW].between(1, 800).all() and train[ROW].is_unique  # customers named by their row


def test_a_one_class_target_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "customers.csv"
    frame = make_other_customers(n=50, seed=1).assign(churned="no")
    frame.to_csv(csv, index=False)
    assert _draft(csv, "churned", tmp_path / "schema.yaml") == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {csv} breaks the data contract (1 violation):\n  {csv}: column 'churned': "
        "target has one class ('no' (50)): a churn target needs exactly two"
    )
    assert not (tmp_path / "schema.yaml").exists()


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        ("a,b\n1,yes\n2,no\n", "churn", "line 1: no target column 'churn'; the columns are ['a', 'b']"),
        ("a,b\n1,yes\n2,no\n3,maybe\n", "b", "column 'b': target has 3 classes"),
        ("a,b\n1,yes\n2\n", "b", "line 3: has 1 fields, the header has 2"),
        ("a,a,b\n1,2,yes\n", "b", "line 1: column 'a' appears more than once"),
        ("", "b", "line 1: the file is empty"),
        ("a,b\n", "b", "line 2: the file has a header but no records"),
    ],
)
def test_bad_input_is_refused_with_file_line_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, target: str, message: str
) -> None:
    csv = tmp_path / "customers.csv"
    csv.write_text(content)
    assert _draft(csv, target, tmp_path / "schema.yaml") == 2
    assert f"  {csv}: {message}" in capsys.readouterr().err


@pytest.mark.slow  # two Python processes
def test_the_command_refuses_an_unreadable_file(tmp_path: Path) -> None:
    """Through ``python -m pipeline`` as typed: exit 2, one line naming the file, no traceback."""
    (tmp_path / "latin1.csv").write_bytes("a,b\nZ\xfcrich,yes\n".encode("latin-1"))
    for name, rule in (("missing.csv", "file: cannot be read (No such file or directory)"),
                       ("latin1.csv", "line 2: not UTF-8 text")):  # fmt: skip
        result = run([sys.executable, "-m", "pipeline", "--params", str(REPO / "params.yaml"), "schema", "draft",
                      str(tmp_path / name), "--target", "b", "--output", str(tmp_path / "s.yaml")], tmp_path,
                     check=False)  # fmt: skip
        assert result.returncode == 2
        assert f"{tmp_path / name}: {rule}" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("labels", "positive", "review"),
    [
        (["yes", "no", "no"], "yes", False),
        (["Yes", "No", "No"], "Yes", False),
        (["True", "False", "False"], "True", False),
        (["1", "0", "0"], "1", False),
        (["churned", "stayed", "stayed"], "churned", False),
        (["gold", "lead", "lead"], "gold", True),  # no known word: the rarer label, flagged
    ],
)
def test_the_targets_positive_label(labels: list[str], positive: str, review: bool) -> None:
    frame = pd.DataFrame({"spend": ["1.5", "2", "7"], "left": labels}, dtype=object)
    text = draft(frame, "left", "customers.csv")
    drafted = DataSchema.model_validate(yaml.safe_load(text))
    assert drafted.target.positive == positive
    assert ("# review: positive is the rarer label" in text) == review
