"""draw.io files: valid XML draw.io opens, unique ids, edges between existing boxes, no
overlapping boxes, no edge through a box, all text inside its box, the width of a page; and each
diagram says what its source says (the pipeline: DVC's own graph of dvc.yaml)."""

from __future__ import annotations

import html
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import pytest
import yaml
from dvc.repo import Repo

from pipeline.config import Params
from pipeline.reporting import diagram as dg
from pipeline.reporting import diagrams, drawio_source
from pipeline.reporting.layout import layered
from tests.conftest import REPO

COMMITTED = sorted((REPO / "drawio").glob("*.drawio"))
NAMES = {"pipeline", "architectures", "study_design", "segmentation", "serving", "results"}
PAGE = 1000.0  # px: a rendered Markdown page
Box = tuple[float, float, float, float]  # x, y, width, height


def check_drawio(path: Path) -> ET.Element:
    """Every promise a draw.io file must keep; returns the model's root."""
    mxfile = ET.parse(path).getroot()
    assert mxfile.tag == "mxfile"
    [page] = mxfile.findall("diagram")
    model = page.find("mxGraphModel")
    assert model is not None, "compressed or missing mxGraphModel"
    root = model.find("root")
    cells = root.findall("mxCell")
    ids = [c.get("id") for c in cells]
    assert len(ids) == len(set(ids)), "duplicate cell ids"
    assert ids[:2] == ["0", "1"]
    vertices = {c.get("id"): c for c in cells if c.get("vertex") == "1"}
    edges = [c for c in cells if c.get("edge") == "1"]
    for edge in edges:
        joined = edge.get("source") in vertices and edge.get("target") in vertices
        assert joined, f"{path.name}: edge {edge.get('id')} joins a missing vertex"
    boxes = {i: _box(c) for i, c in vertices.items()}
    for a, b in itertools.combinations(sorted(boxes), 2):
        assert not _overlap(boxes[a], boxes[b]), f"{path.name}: {a} overlaps {b}"
    for cell_id, cell in vertices.items():
        _assert_text_fits(path.name, cell_id, cell.get("value", ""), boxes[cell_id])
    routes = {edge.get("id"): _route(edge, boxes) for edge in edges}
    for edge in edges:
        for name, box in boxes.items():
            if name not in (edge.get("source"), edge.get("target")):
                assert not _crosses(routes[edge.get("id")], box), f"{path.name}: {edge.get('id')} runs through {name}"
    xs = [x for x, _, w, _ in boxes.values() for x in (x, x + w)] + [x for r in routes.values() for x, _ in r]
    assert max(xs) - min(xs) <= PAGE, f"{path.name}: {max(xs) - min(xs):.0f} px wide, wider than a page"
    return root


def _box(cell: ET.Element) -> Box:
    g = cell.find("mxGeometry")
    return float(g.get("x", 0)), float(g.get("y", 0)), float(g.get("width")), float(g.get("height"))


def _overlap(a: Box, b: Box) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw - 0.5 and bx < ax + aw - 0.5 and ay < by + bh - 0.5 and by < ay + ah - 0.5


def _assert_text_fits(name: str, cell_id: str, value: str, box: Box) -> None:
    """Approximately: DejaVu Sans metrics (wider than draw.io's Helvetica), 1.2 lines per font size."""
    lines = value.split("<br>")
    width = max(dg.text_width(html.unescape(re.sub(r"<[^>]+>", "", line)), bold="<b>" in line) for line in lines)
    height = len(lines) * dg.FONT_SIZE * 1.2
    assert width + 2 * 4 <= box[2], f"{name}/{cell_id}: text {width:.0f}px wide in a {box[2]:.0f}px box"
    assert height <= box[3], f"{name}/{cell_id}: {len(lines)} lines in a {box[3]:.0f}px box"


def _route(edge: ET.Element, boxes: dict[str, Box]) -> list[tuple[float, float]]:
    """The polyline draw.io draws: the exit point on the source, the waypoints, the entry point on the target."""
    style = dict(item.split("=", 1) for item in edge.get("style", "").split(";") if "=" in item)

    def port(name: str, fx: str, fy: str) -> tuple[float, float]:
        x, y, w, h = boxes[name]
        return x + float(style.get(fx, 0.5)) * w, y + float(style.get(fy, 0.5)) * h

    points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.findall("mxGeometry/Array/mxPoint")]
    return [port(edge.get("source"), "exitX", "exitY"), *points, port(edge.get("target"), "entryX", "entryY")]


def _crosses(route: list[tuple[float, float]], box: Box) -> bool:
    """Whether the polyline passes inside the box (1 px in from its border), sampled every pixel."""
    x, y, w, h = box
    for (x0, y0), (x1, y1) in itertools.pairwise(route):
        steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0))))
        for k in range(steps + 1):
            px, py = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
            if x + 1 < px < x + w - 1 and y + 1 < py < y + h - 1:
                return True
    return False


def _written(drawn: dg.Diagram, tmp_path: Path) -> Path:
    drawn.normalize()
    path = tmp_path / f"{drawn.name}.drawio"
    path.write_text(drawn.to_drawio())
    return path


# ---- every diagram, as committed and as the report stage renders it -------------------------
@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_diagrams_are_valid(path: Path) -> None:
    check_drawio(path)


def test_all_diagrams_are_committed() -> None:
    assert {p.stem for p in COMMITTED} == NAMES
    for name in NAMES:
        assert (REPO / "docs" / "figures" / "diagrams" / f"{name}.png").is_file()


@pytest.mark.slow
def test_rendered_diagrams_are_valid(in_pipeline_project: Path) -> None:
    rendered = sorted((in_pipeline_project / "drawio").glob("*.drawio"))
    assert {p.stem for p in rendered} == NAMES
    for path in rendered:
        check_drawio(path)
        assert (in_pipeline_project / "docs" / "figures" / "diagrams" / f"{path.stem}.png").is_file()


# ---- the checks catch what they are for (failing controls) ---------------------------------
def test_text_that_does_not_fit_is_caught(tmp_path: Path) -> None:
    drawn = dg.Diagram("tight", "tight", [dg.Node("a", ["a rather long line of text"], width=40, height=40)])
    with pytest.raises(AssertionError, match="px wide"):
        check_drawio(_written(drawn, tmp_path))


def test_overlap_and_dangling_edges_are_caught(tmp_path: Path) -> None:
    a, b = dg.Node("a", ["a"]).fit(), dg.Node("b", ["b"]).fit()
    b.x = a.width / 2
    drawn = dg.Diagram("overlap", "overlap", [a, b])
    with pytest.raises(AssertionError, match="overlaps"):
        check_drawio(_written(drawn, tmp_path))
    b.x = a.width + 10
    drawn.edges.append(dg.Edge("e", "a", "missing"))
    text = drawn.to_drawio().replace('target="missing"', 'target="nowhere"')
    (tmp_path / "dangling.drawio").write_text(text)
    with pytest.raises(AssertionError, match="joins a missing vertex"):
        check_drawio(tmp_path / "dangling.drawio")


def test_an_edge_through_a_box_is_caught(tmp_path: Path) -> None:
    a, b, c = (dg.Node(n, [n]).fit() for n in "abc")
    b.x, c.x = 100.0, 200.0  # a, b, c in a row: a straight edge from a to c runs through b
    drawn = dg.Diagram("through", "through", [a, b, c])
    drawn.connect("a", "c")
    with pytest.raises(AssertionError, match="runs through b"):
        check_drawio(_written(drawn, tmp_path))
    drawn.edges[0].waypoints = [(a.width + 10, -20.0), (190.0, -20.0)]  # over b: clear
    check_drawio(_written(drawn, tmp_path))


def test_a_diagram_wider_than_a_page_is_caught(tmp_path: Path) -> None:
    a, b = dg.Node("a", ["a"]).fit(), dg.Node("b", ["b"]).fit()
    b.x = PAGE
    with pytest.raises(AssertionError, match="wider than a page"):
        check_drawio(_written(dg.Diagram("wide", "wide", [a, b]), tmp_path))


def test_wrap_breaks_a_word_wider_than_the_box_after_a_separator() -> None:
    lines = dg.wrap("writes: metrics/references.json, models/references", 120)
    assert all(dg.text_width(line) <= 120 for line in lines)
    assert "".join(lines).replace(" ", "") == "writes:metrics/references.json,models/references"
    assert any(line[-1] in "/._" for line in lines)  # broken after a separator, not inside a name
    assert dg.wrap("one two three", 1000) == ["one two three"]


# ---- the layout library's layout, translated ------------------------------------------------
def _dag(widths: dict[str, float]) -> dg.Diagram:
    return dg.Diagram("dag", "dag", [dg.Node(n, [n, "x" * int(w / 7)]).fit() for n, w in widths.items()])


DAG_EDGES = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "e"), ("c", "e"), ("a", "e"), ("d", "f"), ("a", "f"), ("e", "f")]


def test_layered_layout_keeps_boxes_apart_and_edges_clear(tmp_path: Path) -> None:
    """Long edges (a to e, a to f) and boxes of different widths: no overlap, no edge through a box,
    every edge downwards from its source's bottom into its target's top, and the edges are the input's."""
    drawn = _dag({"a": 200, "b": 120, "c": 300, "d": 80, "e": 150, "f": 260})
    layered(drawn, DAG_EDGES, gap_x=40, gap_y=60)
    check_drawio(_written(drawn, tmp_path))
    assert sorted((e.source, e.target) for e in drawn.edges) == sorted(DAG_EDGES)
    for edge in drawn.edges:
        source, target = drawn.node(edge.source), drawn.node(edge.target)
        assert source.y + source.height < target.y
        route = drawn.route(edge)
        assert route[0][1] == source.y + source.height and route[-1][1] == target.y
        assert all(y0 <= y1 for (_, y0), (_, y1) in itertools.pairwise(route)), "an edge goes back up"


def test_layered_layout_fits_a_width_or_says_so() -> None:
    drawn = _dag({n: 160 for n in "abcdef"})
    layered(drawn, DAG_EDGES, gap_x=40, gap_y=60, width=700)
    x0, _, x1, _ = drawn.bounds()
    assert x1 - x0 <= 700
    wide = _dag({n: 300 for n in "abcdef"})  # three 300 px boxes in a layer cannot fit 700 px
    layered(wide, DAG_EDGES, gap_x=40, gap_y=60, width=700)
    x0, _, x1, _ = wide.bounds()
    assert x1 - x0 > 700


def test_layered_layout_of_separate_chains_puts_them_side_by_side(tmp_path: Path) -> None:
    drawn = _dag({n: 100 for n in "abcde"})
    layered(drawn, [("a", "b"), ("b", "c"), ("d", "e")], gap_x=40, gap_y=30)
    check_drawio(_written(drawn, tmp_path))
    left, right = {"a", "b", "c"}, {"d", "e"}
    assert {n.x for n in drawn.nodes if n.id in left} != {n.x for n in drawn.nodes if n.id in right}


# ---- each diagram says what its source says -------------------------------------------------
def _dvc_graph(root: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """DVC's own reading of dvc.yaml: its stages, and (dependency, stage) for each stage a stage
    depends on (a ``.dvc`` file's data by its path)."""
    graph = Repo(str(root)).index.graph
    name = {s: s.addressing.removesuffix(".dvc") for s in graph.nodes}
    stages = {name[s] for s in graph.nodes if not s.addressing.endswith(".dvc")}
    return stages, {(name[dep], name[stage]) for stage, dep in graph.edges}


def test_pipeline_diagram_is_dvc_yaml(tmp_path: Path) -> None:
    """A box per stage and an edge per dependency, exactly as DVC reads dvc.yaml; every other box
    is an input the stage it feeds lists among its deps, or the note on the tracking store."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    drawn = diagrams.pipeline(REPO / "dvc.yaml", raw)
    stages, dependencies = _dvc_graph(REPO)
    graph = diagrams.read_pipeline(REPO / "dvc.yaml", raw)
    paths = {box: path for box, path in graph.inputs.items()}
    boxes = {n.id for n in drawn.nodes}
    assert boxes - set(paths) - {"mlflow"} == stages
    edges = {(paths.get(e.source, e.source), e.target) for e in drawn.edges}
    assert {(s, t) for s, t in edges if s in stages} == {(s, t) for s, t in dependencies if s in stages}
    assert {(s, t) for s, t in dependencies if s not in stages} <= edges  # data tracked by a .dvc file
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for box, path in paths.items():
        [user] = [e.target for e in drawn.edges if e.source == box]
        assert path in [d.replace("${paths.raw_data}", raw["paths"]["raw_data"]) for d in spec[user]["deps"]]
        assert drawn.node(box).lines[-1] == path
    note = " ".join(drawn.node("mlflow").lines)
    outs = [o for stage in graph.stages for o in stage.outs]
    for stage in graph.stages:  # every data dependency is drawn or named, in the stage's box or under all
        text = " ".join(drawn.node(stage.name).lines)
        for dep in stage.deps:
            if dep.startswith("pipeline/") or any(dep == o or dep.startswith(f"{o}/") for o in outs):
                continue
            drawn_in = (dep, stage.name) in edges
            assert drawn_in or dep in text or f"every stage also reads {dep}" in note, f"{stage.name}: {dep}"
    check_drawio(_written(drawn, tmp_path))


def test_pipeline_diagram_of_a_changed_dvc_yaml(tmp_path: Path) -> None:
    """The diagram follows dvc.yaml, not a fixed picture: drop a stage's dependency and the edge goes."""
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    spec["stages"]["report"]["deps"] = [d for d in spec["stages"]["report"]["deps"] if "campaign" not in d]
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(spec))
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    before = {(e.source, e.target) for e in diagrams.pipeline(REPO / "dvc.yaml", raw).edges}
    after = {(e.source, e.target) for e in diagrams.pipeline(tmp_path / "dvc.yaml", raw).edges}
    assert before - after == {("campaign", "report")}
    assert after <= before


def test_architecture_diagram_reads_the_keras_model(tmp_path: Path) -> None:
    inputs = keras.Input((7,))
    hidden = keras.layers.Dense(5, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dropout(0.25)(hidden)))
    drawn = diagrams.architectures({"Small: one (version 3)": model, "Other (version 4)": model})
    text = [" ".join(n.lines) for n in drawn.nodes]
    assert "input: 7 features" in text
    assert any(t.startswith("Dense 5, relu 40 weights") for t in text)
    assert any(t.startswith("Dropout 0.25") for t in text)
    assert any(t.startswith("Dense 1, sigmoid 6 weights") for t in text)
    chain = [n.id for n in drawn.nodes if n.id.startswith("small-") and not n.id.endswith("title")]
    assert sorted((e.source, e.target) for e in drawn.edges if e.source.startswith("small-")) == sorted(
        itertools.pairwise(chain)
    )
    check_drawio(_written(drawn, tmp_path))


def test_study_design_diagram_follows_params(tmp_path: Path) -> None:
    params = Params.load(REPO / "params.yaml")
    drawn = diagrams.study_design(params)
    text = " ".join(" ".join(n.lines) for n in drawn.nodes)
    opt = params.optimize
    assert f"{len(opt.comparison.optimizers)} optimizers x {opt.comparison.trials_per_optimizer} trials" in text
    assert f"{opt.search.trials} trials" in text
    gate, rs = params.resample.gate, params.resample
    assert f"{rs.repeats} repeats x {rs.folds} folds of train + validation" in text
    assert f"significant at alpha {gate.alpha:g} after Holm" in text
    assert all(name in text for name in params.recipes)
    assert "${" not in text
    ids = [n.id for n in drawn.nodes]
    assert {("resample", "gate"), ("gate", "evaluate")} <= {(e.source, e.target) for e in drawn.edges}
    assert ids.index("resample") < ids.index("gate") < ids.index("evaluate")
    check_drawio(_written(drawn, tmp_path))


def test_a_long_value_grows_its_box_and_pushes_the_rest_down(tmp_path: Path) -> None:
    short = diagrams.serving("churn", 0.25, "platt")
    long = diagrams.serving("churn", 0.25, " ".join(["isotonic regression on the validation split"] * 6))
    assert long.node("calibrate").height > short.node("calibrate").height
    grown = long.node("calibrate").height - short.node("calibrate").height
    assert long.node("reply").y == pytest.approx(short.node("reply").y + grown)
    assert long.node("client").y == short.node("client").y
    check_drawio(_written(long, tmp_path))
    assert "p >= 0.250" in " ".join(long.node("decide").lines)


def test_a_source_asks_only_for_values_it_is_given() -> None:
    assert drawio_source.placeholders("serving") == {"registered_model", "threshold", "calibration"}
    with pytest.raises(KeyError, match="calibration"):
        drawio_source.filled("serving", {"registered_model": "m", "threshold": "0.5"})
