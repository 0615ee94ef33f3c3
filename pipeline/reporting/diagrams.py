"""The project's diagrams, each built from the thing it shows: ``dvc.yaml``, the Keras models,
``params.yaml`` and the registry's evidence. Layout is computed; nothing is placed by hand."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import yaml

from pipeline.config import Params, SegmentConfig
from pipeline.reporting.diagram import (
    PADDING,
    Diagram,
    Node,
    column,
    in_row,
    row_width,
    staggered,
    staggered_width,
    wrap,
)

GAP_X, GAP_Y, LANE = 60.0, 30.0, 16.0


# ---- the pipeline, from dvc.yaml ------------------------------------------------------------
PAGE = 1000.0  # px: a rendered Markdown page; a wider diagram is shrunk, and its 12 px text with it
STAGE_TEXT = 260.0  # a stage box's lists wrap here (narrower only if the widest layer would not fit the page)


def pipeline(dvc_file: Path, params: Mapping) -> Diagram:
    """Stages as boxes in dependency layers, top to bottom, so the diagram reads at the width of a
    Markdown page; an edge wherever one stage's output is another's dependency. External inputs
    (files no stage produces) on top. A layer wider than the page is wrapped into two staggered rows
    (``staggered``), in dvc.yaml's order left to right; edges between adjacent layers run between
    the boxes of those rows, edges that skip layers in lanes beside them."""
    stages = _interpolated_stages(dvc_file, params)
    outs = {name: _paths(stage.get("outs", [])) + _paths(stage.get("metrics", [])) for name, stage in stages.items()}
    producers: dict[str, list[str]] = {name: [] for name in stages}
    external: dict[str, list[str]] = {}
    for name, stage in stages.items():
        for dep in stage.get("deps", []):
            if dep.startswith("pipeline/") or dep.endswith(".py") or dep == "dvc.yaml":
                continue  # code, drawn as the stage's own box
            found = [p for p, paths in outs.items() if any(dep == o or dep.startswith(f"{o}/") for o in paths)]
            if found:
                producers[name] += [p for p in found if p not in producers[name]]
            else:
                external.setdefault(dep, []).append(name)

    # an input many stages read (the data contract) is named in their boxes, not drawn as many crossing edges
    shared = {path for path, users in external.items() if len(users) > 1}
    drawn = [path for path in external if path not in shared]
    layer = {f"in{i}": 0 for i in range(len(drawn))}
    for name in stages:  # dvc.yaml lists stages in an order DVC accepts; layers by longest path
        layer[name] = 1 + max((layer[p] for p in producers[name]), default=0)

    diagram = Diagram("pipeline", "The DVC pipeline (from dvc.yaml)")
    for i, path in enumerate(drawn):
        diagram.nodes.append(Node(f"in{i}", [Path(path).name, path], "data").fit())
    reads = {name: [path for path in shared if name in external[path]] for name in stages}
    boxes = _stage_boxes(stages, outs, reads, STAGE_TEXT)
    most = max(sum(1 for name in stages if layer[name] == k) for k in set(layer.values()))
    if _layer_width(boxes[:most]) > PAGE:  # even wrapped, the widest layer overflows: narrower boxes
        fits = (PAGE - (most - 1) * GAP_X / 2) / ((most + 1) / 2)
        boxes = _stage_boxes(stages, outs, reads, max(fits - 2 * PADDING, 100.0))
    diagram.nodes += boxes

    rows: dict[int, list[Node]] = {}
    for node in diagram.nodes:
        rows.setdefault(layer[node.id], []).append(node)
    widths = {k: _layer_width(nodes) for k, nodes in rows.items()}
    tops: dict[int, float] = {}
    y = 0.0
    for k in sorted(rows):
        tops[k], x = y, (max(widths.values()) - widths[k]) / 2
        if row_width(rows[k], GAP_X) <= PAGE:
            y = in_row(rows[k], x, y, GAP_X) + 2 * GAP_Y
        else:
            y = staggered(rows[k], x, y, GAP_X, GAP_Y) + 2 * GAP_Y

    edges = [(p, name) for name in stages for p in producers[name]]
    edges += [(f"in{i}", user) for i, path in enumerate(drawn) for user in external[path]]
    _lane_edges(diagram, [(s, t) for s, t in edges if layer[t] - layer[s] > 1], layer)
    for source, target in edges:
        if layer[target] - layer[source] == 1:
            _down_edge(diagram, source, target, tops[layer[target]] - GAP_Y)

    note = Node(
        "mlflow",
        [
            "MLflow tracking store and Model Registry (mlflow.db, mlartifacts/)",
            "every stage logs a run; evaluate registers @champion and @baseline; report reads them",
        ],
        "store",
        bold_first=True,
    ).fit()
    note.x, note.y = (max(widths.values()) - note.width) / 2, y
    diagram.nodes.append(note)
    return diagram


def _stage_boxes(stages: Mapping[str, dict], outs: Mapping, reads: Mapping, text: float) -> list[Node]:
    """A box per stage, its lists wrapped at ``text`` px, all as wide as the widest: the flow reads as one column."""
    boxes = []
    for name, stage in stages.items():
        lines = [
            name,
            stage["cmd"],
            *_listing("writes", _by_folder(outs[name]), text),
            *_listing("params", stage.get("params", []), text),
            *_listing("also reads", reads[name], text),
        ]
        boxes.append(Node(name, lines, "stage").fit())
    widest = max(box.width for box in boxes)
    for box in boxes:
        box.width = widest
    return boxes


def _layer_width(nodes: Sequence[Node]) -> float:
    """In one row if it fits the page, else in two staggered rows."""
    width = row_width(nodes, GAP_X)
    return width if width <= PAGE else staggered_width(nodes, GAP_X)


def _down_edge(diagram: Diagram, source: str, target: str, bus: float) -> None:
    """Adjacent layers: out of the source's bottom, along the line at ``bus`` (above the target's
    layer), into the target's top. In a staggered layer both legs pass between the other row's boxes."""
    (sx, _), (tx, _) = diagram.node(source).port(0.5, 1.0), diagram.node(target).port(0.5, 0.0)
    turns = [(sx, bus), (tx, bus)] if sx != tx else []
    diagram.connect(source, target, exit=(0.5, 1.0), entry=(0.5, 0.0), waypoints=turns)


@dataclass
class _Lane:
    """The vertical run of one source's layer-skipping edges, at ``x``, on one side of its targets.
    It leaves the source by a side or, when both sides are walled in (a box in the middle of a
    staggered layer's upper row), by its bottom: straight down between the lower row's boxes to
    ``drop``, under the layer, and along there to the lane."""

    source: str
    targets: list[str]
    x: float
    exit_side: float  # the source's side it leaves by: 1.0 right, 0.0 left (0.5: its bottom)
    entry_side: float  # the targets' side it enters by
    drop: float | None = None  # the height of the run out of the source's bottom, if it leaves so

    def span(self, diagram: Diagram) -> tuple[float, float]:
        ys = [diagram.node(n).center[1] for n in self.targets]
        ys.append(diagram.node(self.source).center[1] if self.drop is None else self.drop)
        return min(ys), max(ys)

    def runs(self, diagram: Diagram) -> list[tuple[float, float, float, str]]:
        """Its horizontal runs ``(y, x_from, x_to, box)``: out of the source, into each target."""
        out = []
        for name, side in ((self.source, self.exit_side), *((t, self.entry_side) for t in self.targets)):
            node = diagram.node(name)
            y, edge_x = node.center[1], node.x + side * node.width
            if name == self.source and self.drop is not None:
                y = self.drop
            out.append((y, min(edge_x, self.x), max(edge_x, self.x), name))
        return out


def _lane_edges(diagram: Diagram, edges: Sequence[tuple[str, str]], layer: Mapping[str, int]) -> None:
    """Edges that skip layers: one vertical lane per source, in the gap beside its targets (right
    or left), never through a box. Sources beside their targets' column take the outermost free
    track of the gap they face (their exit then crosses no lane); the others, longest first, the
    side and track that cross the fewest lanes already drawn. On a box's side, entries from inner
    lanes come first, top-down, then the exit, so that few lines cross."""
    targets: dict[str, list[str]] = {}
    for source, target in edges:
        targets.setdefault(source, []).append(target)
    boxes = list(diagram.nodes)

    def beside(source: str) -> bool:
        node, ts = diagram.node(source), [diagram.node(t) for t in targets[source]]
        return node.x + node.width <= min(t.x for t in ts) or node.x >= max(t.x + t.width for t in ts)

    order = sorted(targets, key=lambda s: (not beside(s), -(max(layer[t] for t in targets[s]) - layer[s]), s))
    lanes: list[_Lane] = []
    for source in order:
        under = max(b.y + b.height for b in boxes if layer[b.id] == layer[source])  # the source's layer
        options = _lane_options(diagram, source, targets[source], boxes, lanes, under)
        node = diagram.node(source)
        if beside(source):  # in the gap towards the targets, on the track nearest the source: its exit crosses none
            between = [lane for lane in options if lane.exit_side != lane.entry_side] or options
            best = min(between, key=lambda lane: abs(lane.x - (node.x + lane.exit_side * node.width)))
        else:
            bounds = diagram.bounds()
            best = min(
                options,
                key=lambda lane: (
                    sum(_crossings(diagram, lane, other) for other in lanes),
                    max(0.0, lane.x - bounds[2], bounds[0] - lane.x),
                    abs(lane.x - node.center[0]),
                ),
            )
        lanes.append(best)

    ports: dict[tuple[str, float], list[tuple[int, float, _Lane]]] = {}  # (box, side) -> (exit?, distance, lane)
    for lane in lanes:
        source = diagram.node(lane.source)
        if lane.drop is None:  # (out of the bottom: from its centre, as the source's edges down)
            ports.setdefault((lane.source, lane.exit_side), []).append(
                (1, abs(lane.x - (source.x + lane.exit_side * source.width)), lane)
            )
        for name in lane.targets:
            node = diagram.node(name)
            ports.setdefault((name, lane.entry_side), []).append(
                (0, abs(lane.x - (node.x + lane.entry_side * node.width)), lane)
            )

    def port(box: str, side: float, lane: _Lane, exit: bool) -> tuple[float, float]:
        ordered = sorted(ports[(box, side)], key=lambda p: (p[0], p[1]))
        index = next(i for i, (e, _, other) in enumerate(ordered) if other is lane and bool(e) == exit)
        return side, (index + 1) / (len(ordered) + 1)

    for lane in lanes:
        if lane.drop is None:
            exit_point = port(lane.source, lane.exit_side, lane, True)
            out = [(lane.x, diagram.node(lane.source).port(*exit_point)[1])]
        else:
            exit_point = (0.5, 1.0)
            out = [(diagram.node(lane.source).center[0], lane.drop), (lane.x, lane.drop)]
        for target in lane.targets:
            entry_point = port(target, lane.entry_side, lane, False)
            y_entry = diagram.node(target).port(*entry_point)[1]
            diagram.connect(
                lane.source, target, exit=exit_point, entry=entry_point, waypoints=[*out, (lane.x, y_entry)]
            )


def _lane_options(
    diagram: Diagram,
    source: str,
    targets: Sequence[str],
    boxes: Sequence[Node],
    lanes: Sequence[_Lane],
    under: float,
) -> list[_Lane]:
    """Every track, right or left of the targets, whose lane and runs pass through no box and
    share no stretch of line with another lane: out of a side of the source if any is free, else
    out of its bottom (``_Lane.drop``), if the way down to under its layer (``under``, the
    bottom of its lowest box) is."""
    node = diagram.node(source)
    ts = [diagram.node(t) for t in targets]
    tracks = [
        (entry_side, edge + direction * (GAP_X / 2 - LANE + k * LANE))
        for entry_side, direction, edge in (
            (1.0, 1.0, max(t.x + t.width for t in ts)),
            (0.0, -1.0, min(t.x for t in ts)),
        )
        for k in range(64)
    ]
    options = [
        lane
        for entry_side, x in tracks
        if not node.x - 4 <= x <= node.x + node.width + 4
        for lane in [_Lane(source, list(targets), x, 1.0 if x > node.x + node.width else 0.0, entry_side)]
        if _clear(diagram, lane, boxes, lanes)
    ]
    sx, sy = node.port(0.5, 1.0)
    for drop in (under + GAP_Y / 2, under + GAP_Y / 2 - LANE / 2, under + GAP_Y / 2 + LANE / 2):
        if options:
            return options
        if any(b is not node and b.x < sx < b.x + b.width and sy < b.y + b.height and b.y < drop for b in boxes):
            continue  # the way down runs through a box
        candidates = (_Lane(source, list(targets), x, 0.5, entry_side, drop) for entry_side, x in tracks)
        options = [lane for lane in candidates if _clear(diagram, lane, boxes, lanes)]
    if not options:
        raise ValueError(f"no lane for the edges out of {source} passes clear of every box")
    return options


def _clear(diagram: Diagram, lane: _Lane, boxes: Sequence[Node], lanes: Sequence[_Lane]) -> bool:
    top, bottom = lane.span(diagram)
    for box in boxes:
        if box.x - 4 < lane.x < box.x + box.width + 4 and box.y - 4 < bottom and top < box.y + box.height + 4:
            return False  # the lane runs through the box
        for y, x0, x1, name in lane.runs(diagram):
            if name != box.id and box.y <= y <= box.y + box.height and x0 < box.x + box.width and box.x < x1:
                return False  # a run into or out of the lane crosses another box
    for other in lanes:
        low, high = other.span(diagram)
        if abs(other.x - lane.x) < LANE / 2 and low < bottom and top < high:
            return False
        if lane.drop is not None and other.drop is not None and abs(lane.drop - other.drop) < LANE / 2:
            (_, a0, a1, _), (_, b0, b1, _) = lane.runs(diagram)[0], other.runs(diagram)[0]
            if a0 < b1 + LANE / 2 and b0 < a1 + LANE / 2:
                return False  # the two runs out of the sources' bottoms would share a stretch
    return True


def _crossings(diagram: Diagram, a: _Lane, b: _Lane) -> int:
    """How often the runs of one lane cross the other's vertical stretch (approximately: runs at
    box centres; runs at a box both lanes join are ordered on its side and do not cross)."""
    count = 0
    for one, other in ((a, b), (b, a)):
        low, high = other.span(diagram)
        joined = {other.source, *other.targets}
        for y, x0, x1, name in one.runs(diagram):
            if name not in joined and x0 < other.x < x1 and low < y < high:
                count += 1
    return count


def _interpolated_stages(dvc_file: Path, params: Mapping) -> dict[str, dict]:
    def value(match: re.Match) -> str:
        node: object = params
        for key in match.group(1).split("."):
            node = node[key]  # type: ignore[index]
        return str(node)

    text = re.sub(r"\$\{([\w.]+)\}", value, dvc_file.read_text())
    return yaml.safe_load(text)["stages"]


def _paths(entries: Sequence) -> list[str]:
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
    """One column per model: its layers as Keras built them, with units, activation and weights."""
    diagram = Diagram("architectures", "Baseline and champion networks (from the trained Keras models)")
    x = 0.0
    for title, model in models.items():
        key = re.sub(r"\W+", "_", title.split(":")[0]).strip("_").lower()
        header = Node(f"{key}-title", [title, f"{model.count_params():,} weights"], "title").fit()
        nodes = [header, Node(f"{key}-input", [f"input: {model.input_shape[-1]} features"], "data").fit()]
        for i, layer in enumerate(model.layers):
            nodes.append(Node(f"{key}-layer{i}", _layer_lines(layer), "stage").fit())
        width = max(n.width for n in nodes)
        for node in nodes[1:]:
            node.width = width
        column(nodes, x, 0.0, GAP_Y)
        for upper, lower in itertools.pairwise(nodes[1:]):  # the title is not a layer
            diagram.connect(upper.id, lower.id, exit=(0.5, 1.0), entry=(0.5, 0.0))
        diagram.nodes += nodes
        x += width + 2 * GAP_X
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
    opt, seeds = params.optimize, params.baseline.seeds
    seed_text = f"seeds {seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"seeds {seeds}"
    width = 330.0
    comparison = [
        Node(
            "comparison",
            [
                "Fair comparison",
                *wrap(
                    f"{len(opt.comparison.optimizers)} optimizers x {opt.comparison.trials_per_optimizer} trials each: "
                    + ", ".join(opt.comparison.optimizers),
                    width,
                ),
                "same architecture, data and budget",
            ],
        ),
        Node(
            "search",
            [
                "Full search",
                f"{opt.search.trials} trials over layers {_range(opt.search.hidden_layers)},"
                f" units {_range(opt.search.units)},",
                f"dropout, L2, batch norm, batch size, imbalance {'/'.join(opt.search.imbalance)}",
                "and all optimizers",
            ],
        ),
    ]
    for node in comparison:
        node.fit(min_width=width)
    trial = Node(
        "trial",
        [
            "Each trial (Optuna)",
            f"TPE sampler (seed {opt.sampler_seed}, {opt.sampler_startup_trials} random start-up trials)",
            f"train on the train split, at most {opt.epochs} epochs,"
            f" early stopping after {opt.early_stopping_patience}",
            f"objective: validation log loss; median pruner after {opt.pruner.startup_trials} trials,"
            f" {opt.pruner.warmup_epochs} warm-up epochs",
            "every trial a nested MLflow run",
        ],
    ).fit()
    retrain = Node(
        "retrain",
        [
            "Best configuration of each study",
            f"retrained over the baseline's {seed_text}:",
            "a candidate per study",
        ],
        "good",
    ).fit()
    named = Node(
        "named",
        [
            "The baseline and the briefs' recipes",
            *wrap(", ".join(params.recipes), 260.0),
            f"trained over the same {seed_text}",
        ],
        "good",
    ).fit()
    rs, gate = params.resample, params.resample.gate
    resample = Node(
        "resample",
        [
            "resample: the comparison that decides",
            f"{rs.repeats} repeats x {rs.folds} folds of train + validation (test never read);",
            "every candidate, recipe and reference refit on each fold, with early",
            f"stopping, calibration and threshold on {rs.tune_fraction:g} of the fold's training part;",
            "each against the baseline: corrected resampled t-test, Holm's adjustment",
        ],
    ).fit()
    decide = Node(
        "gate",
        [
            "Gate: the champion",
            f"leaves the baseline only for a network whose {gate.criterion.replace('_', ' ')} improvement",
            f"is significant at alpha {gate.alpha:g} after Holm; of those not significantly",
            "worse than the best, the cheapest to train (parameter updates)",
        ],
        "decision",
    ).fit()
    confirm = Node(
        "evaluate",
        [
            "evaluate: the test split, read once, confirms",
            "champion and baseline served as seed ensembles;",
            "the test split decides nothing",
        ],
        "store",
    ).fit()
    diagram = Diagram("study_design", "How the candidates are compared and the champion chosen")
    left, right = comparison
    left.x, left.y = 0.0, 0.0
    right.x, right.y = left.width + GAP_X, 0.0
    right.height = left.height = max(left.height, right.height)
    span = right.x + right.width
    y = left.height + GAP_Y * 1.5
    trial.x, trial.y = (span - trial.width) / 2, y
    y += trial.height + GAP_Y * 1.5
    retrain.height = named.height = max(retrain.height, named.height)
    retrain.x, retrain.y = trial.x + (trial.width - retrain.width) / 2, y  # under the trials it comes from
    named.x, named.y = max(retrain.x + retrain.width + GAP_X, span - named.width), y
    y += retrain.height + GAP_Y * 1.5
    for node in (resample, decide, confirm):
        node.x, node.y = (span - node.width) / 2, y
        y += node.height + GAP_Y * 1.5
    diagram.nodes += [left, right, trial, retrain, named, resample, decide, confirm]
    diagram.connect("comparison", "trial", exit=(0.5, 1.0), entry=(0.25, 0.0))
    diagram.connect("search", "trial", exit=(0.5, 1.0), entry=(0.75, 0.0))
    diagram.connect("trial", "retrain", exit=(0.5, 1.0), entry=(0.5, 0.0))
    diagram.connect("retrain", "resample", exit=(0.5, 1.0), entry=(0.5, 0.0))
    (nx, _), (ex, ey) = named.port(0.5, 1.0), resample.port(0.85, 0.0)  # down, left above resample, into its top
    turns = [(nx, ey - GAP_Y * 0.75), (ex, ey - GAP_Y * 0.75)]
    diagram.connect("named", "resample", exit=(0.5, 1.0), entry=(0.85, 0.0), waypoints=turns)
    diagram.connect("resample", "gate", exit=(0.5, 1.0), entry=(0.5, 0.0))
    diagram.connect("gate", "evaluate", exit=(0.5, 1.0), entry=(0.5, 0.0))
    return diagram


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
    keys = {
        ("high", "high"): "high_risk_high_value",
        ("high", "low"): "high_risk_low_value",
        ("low", "high"): "low_risk_high_value",
        ("low", "low"): "low_risk_low_value",
    }
    row_labels = {"high": f"p >= {seg.risk_cut:g}", "low": f"p < {seg.risk_cut:g}"}
    col_labels = {"high": f"v >= {seg.cut:g}", "low": f"v < {seg.cut:g}"}
    cells = {}
    for (risk, value), key in keys.items():
        segment = seg.segments[key]
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
    steps = [
        ("client", ["Client", "POST /invocations with customer records (JSON)"], "data"),
        ("server", ["mlflow models serve", f"models:/{registered_model}@champion (pyfunc, code + weights)"], "store"),
        ("contract", ["Data contract", "data/schema.yaml: types, ranges, categories"], "stage"),
        ("features", ["Preprocessing", "one-hot and scaling fitted on the train split"], "stage"),
        ("network", ["Network", "traced Keras forward pass"], "stage"),
        ("calibrate", ["Calibration", f"{calibration}, fitted on validation"], "stage"),
        ("decide", ["Decision", f"churn if p >= {threshold:.3f} (threshold from validation)"], "stage"),
        ("segment", ["Segment and action", "risk x value cell; SHAP reasons on request"], "stage"),
        ("reply", ["HTTP 200", "probability, churn, segment, action (, reasons)"], "good"),
    ]
    nodes = [Node(key, lines, kind).fit() for key, lines, kind in steps]
    width = max(n.width for n in nodes)
    for node in nodes:
        node.width = width
    column(nodes, 0.0, 0.0, GAP_Y)
    contract = nodes[2]
    reject = Node(
        "reject", ["HTTP 400", "names every bad row, column, value and rule;", "the server keeps serving"], "decision"
    ).fit()
    reject.x, reject.y = contract.x + contract.width + GAP_X, contract.y + (contract.height - reject.height) / 2
    diagram = Diagram("serving", "The serving path")
    diagram.nodes += [*nodes, reject]
    for upper, lower in itertools.pairwise(nodes):
        diagram.connect(upper.id, lower.id, exit=(0.5, 1.0), entry=(0.5, 0.0))
    diagram.connect("contract", "reject", exit=(1.0, 0.5), entry=(0.0, 0.5), dashed=True)
    return diagram


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
