"""``python -m pipeline <stage>``: one sub-command per DVC stage, plus serving and one-off training."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from pipeline.data.contract import DataContractError

# name -> (module with run(params, args), one-line help). Imported lazily: TensorFlow is slow to load.
STAGES: dict[str, tuple[str, str]] = {
    "prepare": ("pipeline.stages.prepare", "validate the raw CSV, split it, fit preprocessing"),
    "baseline": ("pipeline.stages.baseline", "train the existing, unoptimized network over several seeds"),
    "recipes": ("pipeline.stages.recipes", "train the briefs' own recipes over the baseline's seeds"),
    "references": ("pipeline.stages.references", "tune the reference models on validation, like the networks"),
    "optimize": ("pipeline.stages.optimize", "tune each optimizer with equal budgets, then search the whole model"),
    "resample": (
        "pipeline.stages.resample",
        "refit every candidate on repeated folds of train + validation; the gate names the champion",
    ),
    "evaluate": ("pipeline.stages.evaluate", "score every model once on the test split; register the champion"),
    "segment": ("pipeline.stages.segment", "segments, personas and SHAP reasons for every customer; evidence on test"),
    "campaign": (
        "pipeline.stages.campaign",
        "what a retention campaign is worth: whom to contact, how many, with bootstrap bands on test",
    ),
    "report": (
        "pipeline.stages.report",
        "render docs/REPORT.md, its figures and the draw.io diagrams from the registry",
    ),
    "notebook": (
        "pipeline.stages.notebook",
        "execute notebooks/otomoto_ann_optimization.ipynb in place (after dvc repro)",
    ),
    "optimize-worker": ("pipeline.stages.optimize_worker", "run trials of the optimize studies (one process)"),
    "train": ("pipeline.stages.train", "train one model with a chosen optimizer and hyperparameters, logged to MLflow"),
    "score": ("pipeline.stages.score", "batch-score a CSV of raw customer records with the registered champion"),
    "schema": ("pipeline.stages.schema", "draft a data contract for your own CSV: `schema draft CSV --target COLUMN`"),
}


# stages with options of their own: their module (light to import) defines configure(parser)
WITH_OPTIONS = {"notebook", "optimize-worker", "schema", "score", "train"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="parameters file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, (module, help_text) in STAGES.items():
        sub = commands.add_parser(name, help=help_text)
        if name in WITH_OPTIONS:
            importlib.import_module(module).configure(sub)
    return parser


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _not_an_interruption(record: logging.LogRecord) -> bool:
    """Optuna logs the traceback of a trial stopped by Ctrl-C; the CLI says it in one line instead."""
    return not (record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt))


def configure_logging(verbose: bool) -> None:
    """Our log lines, and Optuna's warnings only: the studies' progress lines say what matters. Worker
    processes (``pipeline.parallel``) take the same levels and filters."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    import optuna  # loaded when a command runs, not when the parser is built

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna.study._optimize").addFilter(_not_an_interruption)  # the module that logs it


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    from pipeline.config import Params

    try:
        params = Params.load(args.params)
    except ValidationError as err:
        print(f"error: {args.params} is not valid:\n{err}", file=sys.stderr)
        return 2
    options = {k: v for k, v in vars(args).items() if k not in {"params", "verbose", "stage"}}
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped job ends like Ctrl-C: cleanly, resumable
    module = importlib.import_module(STAGES[args.stage][0])
    try:
        module.run(params, **options)
    except KeyboardInterrupt:
        kept = module.progress(params) if hasattr(module, "progress") else "nothing of it is kept"
        print(f"interrupted: {args.stage} stopped; {kept}. Run `dvc repro` to resume.", file=sys.stderr)
        return 130
    except DataContractError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:  # options that make an invalid model or optimizer
        print(f"error: invalid options:\n{err}", file=sys.stderr)
        return 2
    return 0
