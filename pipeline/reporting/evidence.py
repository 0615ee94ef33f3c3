"""What the report is made of, gathered from the MLflow Model Registry and the runs it leads to.

The chain is followed by links the stages record, never by "the latest run": the ``champion``
and ``baseline`` aliases name model versions; a version's run is its ``evaluate-<model>`` run,
whose parent is the ``evaluate`` run and whose ``training_run_id`` tag is the run that trained
the network (a study run of ``optimize``, a recipe run of ``recipes``, or the ``baseline`` run).
The ``segment`` and ``campaign`` runs are the ones tagged with the champion's version; the
``prepare`` run, the one tagged with its data md5; the ``resample`` run, the one the ``evaluate``
run names in its tag ``resample_run_id`` (the run whose gate it followed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, cast

import mlflow
import pandas as pd
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from pipeline.evaluation.summary import BASELINE, GateSummary
from pipeline.reporting.claims import Assessed
from pipeline.segmentation.summaries import CampaignSummary, SegmentSummary
from pipeline.tracking import registry


class SeedEnsemble(TypedDict):
    """One metric of the evaluate run's ``ensemble_vs_single.json``: single seed models against their average."""

    single_mean: float
    single_std: float
    ensemble: float
    diff: float  # ensemble minus single, paired bootstrap
    low: float
    high: float


class LevelProfile(TypedDict):
    share: float
    churn_rate: float


class DataProfile(TypedDict):
    """The prepare run's ``summary.json`` (training split): per categorical column, per value."""

    categorical: dict[str, dict[str, LevelProfile]]


class EvidenceError(RuntimeError):
    """The registry or a run the report needs is missing: says which link of the chain broke."""


@dataclass(frozen=True)
class Study:
    """A configuration trained over seeds: an optimize study's run (best configuration, budget,
    retrain summary) and its retrained seeds, or a recipe's run and its seed runs."""

    label: str
    run: Run
    seed_runs: list[Run]
    selected_seed: int

    def selected_run(self) -> Run:
        return next(r for r in self.seed_runs if r.data.tags.get("seed") == str(self.selected_seed))


@dataclass
class Evidence:
    registered_model: str
    versions: dict[str, ModelVersion]  # alias -> version
    evaluate_run: Run
    model_runs: dict[str, Run]  # model name -> its evaluate-<model> run
    baseline_run: Run
    baseline_seed_runs: list[Run]
    comparison_run: Run
    studies: dict[str, Study]  # optimizer label or "search" -> study
    recipes: dict[str, Study]  # the briefs' recipes: name -> its recipes run and seed runs
    resample_run: Run
    resampled: GateSummary  # the resample run's comparison.json: design, gate, decision, every model's standing
    folds: pd.DataFrame  # the resample run's folds.csv: one row per fold and model
    ensemble_vs_single: dict[
        str, dict[str, SeedEnsemble]
    ]  # the evaluate run's ensemble_vs_single.json: model -> metric -> values
    before_after: (
        Assessed  # the evaluate run's before_after.json: the original as used, every served network, the ladder
    )
    segment_run: Run
    segment_summary: SegmentSummary
    segment_tables: dict[str, pd.DataFrame]
    campaign_run: Run
    campaign_summary: CampaignSummary
    campaign_tables: dict[str, pd.DataFrame]
    prepare_run: Run
    profile: DataProfile  # the prepare run's data profile (training split)
    error_analysis: pd.DataFrame
    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # run id -> metric -> per epoch

    @property
    def champion(self) -> str:
        return self.evaluate_run.data.params["champion"]

    def trained(self, name: str) -> Study | None:
        """The study or recipe that trained network ``name`` (None for the baseline)."""
        return self.studies.get(name) or self.recipes.get(name)


def gather(registered_model: str, workdir: Path) -> Evidence:
    """Follow the registry's aliases to every run the report needs; artifacts go under ``workdir``."""
    client = MlflowClient()
    versions = _versions(client, registered_model)
    champion_model_run = client.get_run(str(versions[registry.CHAMPION].run_id))
    evaluate_run = client.get_run(_parent_id(champion_model_run))
    model_runs = {r.data.tags["model"]: r for r in _children(client, evaluate_run)}
    baseline_run = client.get_run(_training_run_id(model_runs[BASELINE]))
    studies, recipes, comparison_run = _trained(client, evaluate_run, model_runs)
    champion_version = versions[registry.CHAMPION].version
    segment = _champion_stage(client, evaluate_run, "segment", champion_version, workdir)
    campaign = _champion_stage(client, evaluate_run, "campaign", champion_version, workdir)
    data_md5 = versions[registry.CHAMPION].tags["data_md5"]
    prepare_run = _newest(
        client,
        evaluate_run.info.experiment_id,
        f"tags.stage = 'prepare' and tags.data_md5 = '{data_md5}'",
        f"no prepare run for data md5 {data_md5}",
    )
    baseline_seeds = _children(client, baseline_run)
    resample_run = _resample_run(client, evaluate_run)
    evidence = Evidence(
        registered_model=registered_model,
        versions=versions,
        evaluate_run=evaluate_run,
        model_runs=model_runs,
        baseline_run=baseline_run,
        baseline_seed_runs=baseline_seeds,
        comparison_run=comparison_run,
        studies=studies,
        recipes=recipes,
        resample_run=resample_run,
        resampled=GateSummary.read(download(resample_run, "comparison.json", workdir / "comparison.json")),
        folds=pd.read_csv(download(resample_run, "folds.csv", workdir / "folds.csv")),
        ensemble_vs_single=cast(
            dict[str, dict[str, SeedEnsemble]], _json(evaluate_run, "ensemble_vs_single.json", workdir)
        ),
        before_after=cast(Assessed, _json(evaluate_run, "before_after.json", workdir)),
        segment_run=segment[0],
        segment_summary=SegmentSummary.model_validate(segment[1]),
        segment_tables=segment[2],
        campaign_run=campaign[0],
        campaign_summary=CampaignSummary.model_validate(campaign[1]),
        campaign_tables=campaign[2],
        prepare_run=prepare_run,
        profile=cast(
            DataProfile, json.loads(download(prepare_run, "summary.json", workdir / "profile.json").read_text())
        ),
        error_analysis=pd.read_csv(download(evaluate_run, "error_analysis.csv", workdir / "error_analysis.csv")),
    )
    curve_runs = [*baseline_seeds, *(r for s in (*studies.values(), *recipes.values()) for r in s.seed_runs)]
    evidence.histories.update({run.info.run_id: _history(client, run) for run in curve_runs})
    return evidence


def _versions(client: MlflowClient, registered_model: str) -> dict[str, ModelVersion]:
    """The versions the ``champion`` and ``baseline`` aliases name."""
    versions = {}
    for alias in (registry.CHAMPION, registry.BASELINE):
        try:
            versions[alias] = client.get_model_version_by_alias(registered_model, alias)
        except mlflow.exceptions.MlflowException as err:
            raise EvidenceError(
                f"registered model {registered_model!r} has no version with alias {alias!r}: run `dvc repro` "
                f"(the evaluate stage registers it) against tracking store {mlflow.get_tracking_uri()}"
            ) from err
    return versions


def _trained(
    client: MlflowClient, evaluate_run: Run, model_runs: dict[str, Run]
) -> tuple[dict[str, Study], dict[str, Study], Run]:
    """The optimize studies and the briefs' recipes behind the evaluated networks, and the parent run of
    the optimizers' comparison."""
    studies: dict[str, Study] = {}
    recipes: dict[str, Study] = {}
    parents: dict[str, Run] = {}
    for name, run in model_runs.items():
        if name == BASELINE or run.data.tags.get("kind") != "ann":
            continue
        training_run = client.get_run(_training_run_id(run))
        selected = int(training_run.data.metrics["selected_seed"])
        if training_run.data.tags.get("stage") == "recipes":  # a recipe: its own run, one nested run per seed
            recipes[name] = Study(name, training_run, _children(client, training_run), selected)
            continue
        parent = client.get_run(_parent_id(training_run))
        parents[parent.data.tags["study"]] = parent
        seeds = [r for r in _children(client, training_run) if r.data.tags.get("kind") == "retrain"]
        studies[name] = Study(name, training_run, seeds, selected)
    missing = {"comparison", "search"} - parents.keys()
    if missing:
        raise EvidenceError(f"evaluate run {evaluate_run.info.run_id} has no candidate from the {missing} studies")
    return studies, recipes, parents["comparison"]


def _history(client: MlflowClient, run: Run) -> dict[str, list[float]]:
    """Training and validation loss per epoch."""
    return {
        key: [m.value for m in sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)]
        for key in ("train_loss", "val_loss")
    }


def _json(run: Run, artifact: str, workdir: Path) -> dict[str, object]:
    return json.loads(download(run, artifact, workdir / artifact).read_text())


def _resample_run(client: MlflowClient, evaluate_run: Run) -> Run:
    """The ``resample`` run whose gate named this evaluation's champion (tag ``resample_run_id``)."""
    try:
        run_id = evaluate_run.data.tags["resample_run_id"]
    except KeyError:
        raise EvidenceError(
            f"evaluate run {evaluate_run.info.run_id} does not name the resample run whose gate it followed "
            "(tag resample_run_id): it predates this version of the pipeline; run `dvc repro`"
        ) from None
    run = client.get_run(run_id)
    if run.data.params.get("champion") != evaluate_run.data.params["champion"]:
        other = evaluate_run.info.run_id
        raise EvidenceError(f"resample run {run_id} names another champion than evaluate run {other}")
    return run


def download(run: Run, artifact: str, destination: Path) -> Path:
    """One artifact of a run, copied to ``destination`` (a file path)."""
    local = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=artifact))
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(local.read_bytes())
    return destination


def _children(client: MlflowClient, parent: Run) -> list[Run]:
    found = client.search_runs(
        [parent.info.experiment_id],
        f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.info.run_id}'",
        max_results=1000,
        order_by=["attributes.start_time ASC"],
    )
    return list(found)


def _parent_id(run: Run) -> str:
    try:
        return run.data.tags[MLFLOW_PARENT_RUN_ID]
    except KeyError:
        raise EvidenceError(f"run {run.info.run_id} ({run.info.run_name}) has no parent run") from None


def _training_run_id(run: Run) -> str:
    try:
        return run.data.tags["training_run_id"]
    except KeyError:
        raise EvidenceError(
            f"run {run.info.run_id} ({run.info.run_name}) does not name the run that trained its model "
            "(tag training_run_id): it predates this version of the pipeline; run `dvc repro`"
        ) from None


def _champion_stage(
    client: MlflowClient, evaluate_run: Run, stage: str, champion_version: str, workdir: Path
) -> tuple[Run, dict[str, object], dict[str, pd.DataFrame]]:
    """The newest run of ``stage`` for this champion version, its summary and its tables."""
    run = _newest(
        client,
        evaluate_run.info.experiment_id,
        f"tags.stage = '{stage}' and tags.champion_version = '{champion_version}'",
        f"no {stage} run for champion version {champion_version}: run the {stage} stage",
    )
    folder = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=str(workdir / stage)))
    tables = {p.stem: pd.read_csv(p) for p in sorted((folder / "tables").glob("*.csv"))}
    return run, json.loads((folder / "summary.json").read_text()), tables


def _newest(client: MlflowClient, experiment_id: str, filter_string: str, missing: str) -> Run:
    found = client.search_runs([experiment_id], filter_string, max_results=1, order_by=["attributes.start_time DESC"])
    if not found:
        raise EvidenceError(missing)
    return found[0]
