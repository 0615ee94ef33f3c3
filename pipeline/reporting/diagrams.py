"""The project's diagrams, each built from the thing it shows: ``dvc.yaml``, the Keras models,
``params.yaml`` and the registry's evidence.

The DAG-shaped ones (the pipeline, the architectures) take their layout from a layout library
(``layout.layered``: grandalf's Sugiyama layout). The ones that are mostly fixed prose (the study
design, the serving path) are hand-edited draw.io sources with their few values filled in
(``drawio_source``). The two tables (the segmentation grid, the results summary) are grids of
cells sized from their text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import yaml

from pipeline.config import Params, SegmentConfig
from pipeline.reporting.diagram import Diagram, Node, wrap
from pipeline.reporting.drawio_source import filled
from pipeline.reporting.layout import layered

GAP_X, GAP_Y = 60.0, 30.0
LAYER_GAP_X = 32.0  # between boxes (and long edges) of one layer


# ---- the pipeline, from dvc.yaml ------------------------------------------------------------
PAGE = 1000.0  # px: a rendered Markdown page; a wider diagram is shrunk, and its 12 px text with it
# a stage box's lists wrap at the widest of these at which the diagram fits the page
STAGE_TEXT = (260.0, 230.0, 200.0, 180.0, 170.0, 160.0, 150.0, 140.0)


@dataclass(frozen=True)
class Stage:
    """One stage of dvc.yaml, its ``${...}`` filled from params.yaml."""

    name: str
    cmd: str
    deps: list[str]
    outs: list[str]  # outs, metrics and plots
    params: list[str]


@dataclass(frozen=True)
class PipelineGraph:
    """What the pipeline diagram draws: the stages, the inputs no stage produces and only one
    reads (boxes of their own), and an edge wherever a stage or input feeds a stage. An input
    several stages read is named in their boxes (``shared``), one every stage reads (the data
    contract) once under the diagram (``everywhere``), instead of drawn as many crossing edges."""

    stages: list[Stage]
    inputs: dict[str, str]  # box id -> path
    edges: list[tuple[str, str]]
    shared: dict[str, list[str]]  # stage -> the inputs it reads with some other stages
    everywhere: list[str]  # the inputs every stage reads


def read_pipeline(dvc_file: Path, params: Mapping[str, object]) -> PipelineGraph:
    stages = _interpolated_stages(dvc_file, params)
    edges: list[tuple[str, str]] = []
    external: dict[str, list[str]] = {}
    for stage in stages:
        for dep in stage.deps:
            if dep.startswith("pipeline/") or dep.endswith(".py") or dep == "dvc.yaml":
                continue  # code, drawn as the stage's own box
            found = [p.name for p in stages if any(dep == o or dep.startswith(f"{o}/") for o in p.outs)]
            edges += [(p, stage.name) for p in found if (p, stage.name) not in edges]
            if not found:
                external.setdefault(dep, []).append(stage.name)
    drawn = [path for path, users in external.items() if len(users) == 1]
    inputs = {f"in{i}": path for i, path in enumerate(drawn)}
    edges = [(box, external[path][0]) for box, path in inputs.items()] + edges
    everywhere = [path for path, users in external.items() if len(users) == len(stages) > 1]
    shared = {
        s.name: [p for p, users in external.items() if p not in drawn + everywhere and s.name in users] for s in stages
    }
    return PipelineGraph(stages, inputs, edges, shared, everywhere)


def pipeline(dvc_file: Path, params: Mapping[str, object]) -> Diagram:
    """Stages as boxes laid out top-down in dependency layers (``layout.layered``), so the diagram
    reads at the width of a Markdown page; an edge wherever one stage's output is another's
    dependency; inputs no stage produces on top. A stage box's lists wrap at the widest width at
    which the widest layer fits the page."""
    graph = read_pipeline(dvc_file, params)
    for text in STAGE_TEXT:
        diagram = _pipeline_at(graph, text)
        x0, _, x1, _ = diagram.bounds()
        if x1 - x0 <= PAGE:
            break
    return diagram


def _pipeline_at(graph: PipelineGraph, text: float) -> Diagram:
    diagram = Diagram("pipeline", "The DVC pipeline (from dvc.yaml)")
    diagram.nodes += [Node(box, [Path(path).name, path], "data").fit() for box, path in graph.inputs.items()]
    boxes = [
        Node(
            stage.name,
            [
                stage.name,
                *([] if stage.cmd == f"python -m pipeline {stage.name}" else wrap(stage.cmd, text)),
                *_listing("writes", _by_folder(stage.outs), text),
                *_listing("params", stage.params, text),
                *_listing("also reads", graph.shared[stage.name], text),
            ],
            "stage",
        ).fit()
        for stage in graph.stages
    ]
    widest = max(box.width for box in boxes)
    for box in boxes:  # all as wide as the widest: the flow reads as one column
        box.width = widest
    diagram.nodes += boxes
    right = layered(diagram, graph.edges, LAYER_GAP_X, 2 * GAP_Y, PAGE)
    note = Node(
        "mlflow",
        [
            "MLflow tracking store and Model Registry (mlflow.db, mlartifacts/)",
            "every stage (python -m pipeline <stage>, unless its box says otherwise) logs a run;",
            "evaluate registers @champion and @baseline; report reads them",
            *([f"every stage also reads {', '.join(graph.everywhere)}"] if graph.everywhere else []),
        ],
        "store",
    ).fit()
    note.x, note.y = (right - note.width) / 2, diagram.bounds()[3] + 2 * GAP_Y
    diagram.nodes.append(note)
    return diagram


def _interpolated_stages(dvc_file: Path, params: Mapping[str, object]) -> list[Stage]:
    def value(match: re.Match[str]) -> str:
        node: object = params
        for key in match.group(1).split("."):
            if not isinstance(node, Mapping):
                raise KeyError(f"{match.group(0)} in {dvc_file} names no value of params.yaml")
            node = node[key]
        return str(node)

    text = re.sub(r"\$\{([\w.]+)\}", value, dvc_file.read_text())
    stages: Mapping[str, Mapping[str, list[str | dict[str, object]]]] = yaml.safe_load(text)["stages"]
    return [
        Stage(
            name,
            str(spec["cmd"]),
            _paths(spec.get("deps", [])),
            _paths([*spec.get("outs", []), *spec.get("metrics", []), *spec.get("plots", [])]),
            _paths(spec.get("params", [])),
        )
        for name, spec in stages.items()
    ]


def _paths(entries: Sequence[str | Mapping[str, object]]) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else str(e) for e in entries]


def _listing(label: str, items: Sequence[str], width: float) -> list[str]:
    return wrap(f"{label}: {', '.join(items)}", width) if items else []


def _by_folder(paths: Sequence[str]) -> list[str]:
    """Paths that share a folder written once: ``data/prepared/{test.parquet, train.parquet}``."""
    folders: dict[str, list[str]] = {}
    for path in sorted(paths):
        folders.setdefault(path.rpartition("/")[0], []).append(path)
    return [
        f"{folder}/{{{', '.join(p.rpartition('/')[2] for p in group)}}}"
        if folder and len(group) > 1
        else ", ".join(group)
        for folder, group in folders.items()
    ]


# ---- network architectures, from the Keras models --------------------------------------------
def architectures(models: Mapping[str, keras.Model]) -> Diagram:
    """One column per model, laid out by ``layout.layered``: its layers as Keras built them, with
    units, activation and weights, under a title."""
    diagram = Diagram("architectures", "Baseline and champion networks (from the trained Keras models)")
    titles, chains = [], []
    for title, model in models.items():
        key = re.sub(r"\W+", "_", title.split(":")[0]).strip("_").lower()
        titles.append(Node(f"{key}-title", [title, f"{model.count_params():,} weights"], "title").fit())
        chain = [Node(f"{key}-input", [f"input: {model.input_shape[-1]} features"], "data").fit()]
        chain += [Node(f"{key}-layer{i}", _layer_lines(layer), "stage").fit() for i, layer in enumerate(model.layers)]
        width = max(n.width for n in [titles[-1], *chain])
        for node in chain:
            node.width = width
        chains.append(chain)
        diagram.nodes += chain
    layered(diagram, [(u.id, v.id) for chain in chains for u, v in itertools.pairwise(chain)], GAP_X, GAP_Y)
    for head, chain in zip(titles, chains, strict=True):
        head.x, head.y = chain[0].center[0] - head.width / 2, -head.height - GAP_Y / 2
    diagram.nodes += titles
    return diagram


def _layer_lines(layer: keras.layers.Layer) -> list[str]:
    config = layer.get_config()
    kind = type(layer).__name__
    if kind == "Dense":
        activation = config["activation"]
        lines = [f"Dense {config['units']}" + ("" if activation == "linear" else f", {activation}")]
        regularizer = config.get("kernel_regularizer")
        if regularizer:
            lines.append(f"L2 {regularizer['config']['l2']:.2g}")
    elif kind == "Dropout":
        lines = [f"Dropout {config['rate']:.2f}"]
    elif kind == "Activation":
        lines = [f"{config['activation']} activation"]
    elif kind == "BatchNormalization":
        lines = ["Batch normalization"]
    else:
        lines = [kind]
    lines.append(f"{layer.count_params():,} weights")
    return lines


# ---- the optimizer study design, from params.yaml -------------------------------------------
def study_design(params: Params) -> Diagram:
    """The hand-edited ``templates/drawio/study_design.drawio``, its numbers from params.yaml."""
    opt, seeds, rs = params.optimize, params.baseline.seeds, params.resample
    consecutive = seeds == list(range(seeds[0], seeds[-1] + 1))
    values = {
        "optimizer_count": str(len(opt.comparison.optimizers)),
        "trials_per_optimizer": str(opt.comparison.trials_per_optimizer),
        "optimizers": ", ".join(opt.comparison.optimizers),
        "search_trials": str(opt.search.trials),
        "hidden_layers": _range(opt.search.hidden_layers),
        "units": _range(opt.search.units),
        "imbalance": "/".join(opt.search.imbalance),
        "sampler_seed": str(opt.sampler_seed),
        "sampler_startup_trials": str(opt.sampler_startup_trials),
        "epochs": str(opt.epochs),
        "patience": str(opt.early_stopping_patience),
        "pruner_startup_trials": str(opt.pruner.startup_trials),
        "warmup_epochs": str(opt.pruner.warmup_epochs),
        "seeds": f"seeds {seeds[0]}-{seeds[-1]}" if consecutive else f"seeds {seeds}",
        "recipes": ", ".join(params.recipes),
        "repeats": str(rs.repeats),
        "folds": str(rs.folds),
        "tune_fraction": f"{rs.tune_fraction:g}",
        "criterion": rs.gate.criterion.replace("_", " "),
        "alpha": f"{rs.gate.alpha:g}",
    }
    return filled("study_design", values)


def _range(bounds: Sequence[float]) -> str:
    low, high = bounds
    return f"{low:g}-{high:g}"


# ---- segmentation logic ---------------------------------------------------------------------
def segmentation(seg: SegmentConfig, actual_churn: Mapping[str, float]) -> Diagram:
    """The risk x value grid with each cell's action and its actual churn on test (``seg`` resolved: the
    value cut an amount)."""
    diagram = Diagram("segmentation", "From churn probability to a campaign")
    score = Node(
        "score",
        [
            "Champion: calibrated churn probability p",
            f"value v = {seg.value_column}",
        ],
        "store",
    ).fit()
    cell_width = 300.0
    row_labels = {"high": f"p >= {seg.risk_cut:g}", "low": f"p < {seg.risk_cut:g}"}
    col_labels = {"high": f"v >= {seg.cut:g}", "low": f"v < {seg.cut:g}"}
    cells = {}
    for key, segment in sorted(seg.segments.items()):  # high_risk_high_value, ..., low_risk_low_value
        risk, _, value, _ = key.split("_")
        churn = actual_churn.get(segment.name)
        lines = [segment.name, *wrap(segment.action, cell_width)]
        if churn is not None:
            lines.append(f"actual churn on test: {100 * churn:.1f} %")
        cells[(risk, value)] = Node(f"cell-{risk}-{value}", lines, "good" if risk == "low" else "decision").fit(
            min_width=cell_width + 20
        )
    height = max(c.height for c in cells.values())
    width = max(c.width for c in cells.values())
    rows = {k: Node(f"row-{k}", [f"{k} risk", row_labels[k]], "header").fit(min_height=height) for k in row_labels}
    cols = {k: Node(f"col-{k}", [f"{k} value", col_labels[k]], "header").fit(min_width=width) for k in col_labels}
    label_width = max(r.width for r in rows.values())
    score.x, score.y = label_width + GAP_X / 2 + width - score.width / 2, 0.0
    top = score.height + GAP_Y * 1.5
    for j, value in enumerate(("high", "low")):
        cols[value].x, cols[value].y = label_width + GAP_X / 2 + j * (width + 10), top
        cols[value].height = max(c.height for c in cols.values())
    grid_top = top + cols["high"].height + 10
    for i, risk in enumerate(("high", "low")):
        rows[risk].x, rows[risk].y = 0.0, grid_top + i * (height + 10)
        rows[risk].width = label_width
        for j, value in enumerate(("high", "low")):
            cell = cells[(risk, value)]
            cell.width, cell.height = width, height
            cell.x, cell.y = label_width + GAP_X / 2 + j * (width + 10), grid_top + i * (height + 10)
    diagram.nodes += [score, *cols.values(), *rows.values(), *cells.values()]
    diagram.connect("score", "col-high", exit=(0.3, 1.0), entry=(0.5, 0.0))
    diagram.connect("score", "col-low", exit=(0.7, 1.0), entry=(0.5, 0.0))
    return diagram


# ---- the serving path -----------------------------------------------------------------------
def serving(registered_model: str, threshold: float, calibration: str) -> Diagram:
    """The hand-edited ``templates/drawio/serving.drawio``, with the champion's name, threshold and calibration."""
    values = {"registered_model": registered_model, "threshold": f"{threshold:.3f}", "calibration": calibration}
    return filled("serving", values)


# ---- a results summary, filled from the registry --------------------------------------------
def results(title: str, metric_rows: Sequence[Sequence[str]], segment_rows: Sequence[Sequence[str]]) -> Diagram:
    """Two small tables as cells, side by side: before/after metrics and the segments."""
    diagram = Diagram("results", "Results summary (from the registry)")
    head = Node("title", [title], "title").fit()
    diagram.nodes.append(head)
    top = head.height + 10
    _grid(diagram, "metrics", metric_rows, 0.0, top)
    right = max(n.x + n.width for n in diagram.nodes if n.id.startswith("metrics-")) + GAP_X
    _grid(diagram, "segments", segment_rows, right, top)
    return diagram


def _grid(diagram: Diagram, key: str, rows: Sequence[Sequence[str]], x: float, y: float) -> float:
    cells = [
        [
            Node(f"{key}-{i}-{j}", [text], "header" if i == 0 or j == 0 else "cell", bold_first=i == 0).fit()
            for j, text in enumerate(row)
        ]
        for i, row in enumerate(rows)
    ]
    widths = [max(row[j].width for row in cells) for j in range(len(cells[0]))]
    height = max(c.height for row in cells for c in row)
    for i, row in enumerate(cells):
        left = x
        for j, cell in enumerate(row):
            cell.x, cell.y, cell.width, cell.height = left, y + i * height, widths[j], height
            left += widths[j]
        diagram.nodes += row
    return y + len(cells) * height
