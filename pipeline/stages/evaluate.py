"""``evaluate``: the only stage that reads the test split.

Serves each network configuration as the average of its seed models' probabilities, fits
that ensemble's decision (calibration, threshold) on validation, takes the champion the
``resample`` stage's gate named on development data, then scores every model once on test
with bootstrap intervals, next to the scikit-learn reference models. Registers the champion
and the baseline as pyfunc models. The test split decides nothing.

Wiring only: the inputs read, ``assess`` (pure), the reports written, the assessment logged,
the two models registered.
"""

from __future__ import annotations

import logging

import numpy as np

from pipeline.config import Params, SegmentConfig
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.evaluation import reference
from pipeline.evaluation.assessment import Assessment, AssessmentInputs, assess
from pipeline.evaluation.before_after import Network
from pipeline.evaluation.summary import GateSummary
from pipeline.features.encoded import Split, load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import read_json, write_atomic, write_json
from pipeline.segmentation import campaign
from pipeline.tracking import runs
from pipeline.tracking.assessment import EvaluateRun, LoggedAssessment, log_assessment
from pipeline.tracking.registration import Registrant, RegistrationInputs, register
from pipeline.training import store as model_store
from pipeline.training.job import predict
from pipeline.training.store import StoredCandidate

log = logging.getLogger(__name__)
MODEL_GROUPS = ("baseline", "recipes", "candidates")
TRAINING_STAGES = ("baseline", "recipes", "optimize")


def run(params: Params) -> None:
    paths = params.paths
    schema = DataSchema.from_yaml(paths.schema_file)
    pre = Preprocessor.load(paths.preprocessor)
    train = load_split(paths, "train", schema, pre)
    validation = load_split(paths, "validation", schema, pre)
    test = load_split(paths, "test", schema, pre)  # the first and only read of the test split
    # the champion, named on development data by the gate before any test row is read
    gate = GateSummary.read(paths.reports / "resample" / "comparison.json")
    stored = {c.name: c for c in model_store.load_all(paths.models, MODEL_GROUPS)}
    assessment = assess(_inputs(params, stored, gate, train, validation, test))
    log.info("champion (the gate, on resampled development data): %s", assessment.champion)

    reports = paths.reports / "evaluate"
    write_atomic(reports / "error_analysis.csv", lambda tmp: assessment.errors.to_csv(tmp, index=False))
    write_json(reports / "ensemble_vs_single.json", assessment.ensembles)
    write_json(reports / "before_after.json", assessment.before_after.document())
    md5 = data_md5(paths)
    segment = params.segment.resolved(train.frame[params.segment.value_column])  # the served value cut: an amount
    logged = log_assessment(assessment, _evaluate_run(params, md5, segment.cut))
    versions = register(_registration(params, schema, stored, assessment, logged, segment, md5, train, validation))
    runs.log_values(logged.parent, params={f"{alias}_version": v.version for alias, v in versions.items()})
    write_json(paths.summary("evaluate"), assessment.summary())
    write_json(paths.registered_versions, {alias: int(v.version) for alias, v in versions.items()})
    write_json(paths.headline("evaluate"), assessment.headline())


def _inputs(
    params: Params,
    stored: dict[str, StoredCandidate],
    gate: GateSummary,
    train: Split,
    validation: Split,
    test: Split,
) -> AssessmentInputs:
    """The probabilities of every network's seed models and of every reference model, and the outcomes."""
    tuned = reference.load_tuned(params.paths.tuned_references)
    fitted = reference.fit_reference_models(train.x, train.y, tuned, params.references.seed)
    return AssessmentInputs(
        networks={name: _network(c, validation.x, test.x) for name, c in stored.items()},
        references={
            name: (reference.probabilities(estimator, validation.x), reference.probabilities(estimator, test.x))
            for name, estimator in fitted.items()
        },
        y_val=validation.y,
        contact_value=_contact_value(params, validation),
        test=test.frame,
        y_test=test.y,
        gate=gate,
        cfg=params.evaluate,
        original_threshold=params.baseline.threshold,
        optimizers=params.optimize.comparison.optimizers,
    )


def _network(stored: StoredCandidate, x_val: np.ndarray, x_test: np.ndarray) -> Network:
    """Every seed model's raw probabilities on validation and on test, [seeds, rows] each, and its updates."""
    models = stored.load_models()
    p_val, p_test = (np.stack([predict(model, x) for model in models]) for x in (x_val, x_test))
    return Network(stored.name, p_val, p_test, [int(stored.seeds[seed]["updates"]) for seed in stored.seeds])


def _contact_value(params: Params, validation: Split) -> np.ndarray:
    """Each validation customer's realized net value if contacted (the ``max_profit`` threshold rule)."""
    seg = params.segment
    monthly = seg.monthly_value(validation.frame[seg.value_column])
    return campaign.net_value(validation.y, monthly, seg.campaign, seg.horizon_months)


def _evaluate_run(params: Params, md5: str, value_cut: float) -> EvaluateRun:
    paths, cfg = params.paths, params.evaluate
    reports = paths.reports / "evaluate"
    return EvaluateRun(
        experiment=params.tracking.experiment,
        data_md5=md5,
        resample_run_id=read_json(paths.training_runs("resample"))["resample"],
        trained_by={k: v for stage in TRAINING_STAGES for k, v in read_json(paths.training_runs(stage)).items()},
        params={
            "threshold_rule": cfg.threshold.rule,
            "bootstrap_resamples": cfg.bootstrap.resamples,
            "value_cut": value_cut,
        },
        artifacts=[reports / "error_analysis.csv", reports / "ensemble_vs_single.json"],
        before_after=reports / "before_after.json",
        plots=paths.plots / "evaluate",
    )


def _registration(
    params: Params,
    schema: DataSchema,
    stored: dict[str, StoredCandidate],
    assessment: Assessment,
    logged: LoggedAssessment,
    segment: SegmentConfig,
    md5: str,
    train: Split,
    validation: Split,
) -> RegistrationInputs:
    """The champion and the baseline, with a few validation records as the input example and a sample
    of training records as the SHAP background."""
    features = schema.feature_columns

    def registrant(name: str) -> Registrant:
        return Registrant(stored[name], assessment.results[name], logged.model_runs[name], assessment.gate.mean(name))

    return RegistrationInputs(
        registered_model=params.tracking.registered_model,
        schema=schema,
        preprocessor=params.paths.preprocessor,
        segment=segment,
        data_md5=md5,
        criterion=assessment.gate.criterion,
        example=validation.frame[features].head(3),
        background=train.frame[features].sample(segment.shap_background, random_state=segment.shap_seed),
        champion=registrant(assessment.champion),
        baseline=registrant("baseline"),
    )
