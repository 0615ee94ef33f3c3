"""draw.io files: valid XML draw.io opens, unique ids, edges between existing boxes, no
overlapping boxes, all text inside its box; and each diagram says what its source says."""

from __future__ import annotations

import html
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
import pytest
import yaml

from pipeline.config import Params
from pipeline.reporting import diagram as dg
from pipeline.reporting import diagrams
from tests.conftest import REPO

COMMITTED = sorted((REPO / "drawio").glob("*.drawio"))
NAMES = {"pipeline", "architectures", "study_design", "segmentation", "serving", "results"}


def check_drawio(path: Path) -> ET.Element:
    """Every structural promise a draw.io file must keep; returns the model's root."""
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
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not _overlap(boxes[a], boxes[b]), f"{path.name}: {a} overlaps {b}"
    for cell_id, cell in vertices.items():
        _assert_text_fits(path.name, cell_id, cell.get("value", ""), boxes[cell_id])
    return root


def _box(cell: ET.Element) -> tuple[float, float, float, float]:
    g = cell.find("mxGeometry")
    return float(g.get("x", 0)), float(g.get("y", 0)), float(g.get("width")), float(g.get("height"))


def _overlap(a: tuple, b: tuple) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw - 0.5 and bx < ax + aw - 0.5 and ay < by + bh - 0.5 and by < ay + ah - 0.5


def _assert_text_fits(name: str, cell_id: str, value: str, box: tuple) -> None:
    lines = value.split("<br>")
    width = max(dg.text_width(html.unescape(re.sub(r"<[^>]+>", "", line)), bold="<b>" in line) for line in lines)
    height = len(lines) * dg.FONT_SIZE * 1.2
    assert width + 2 * 4 <= box[2], f"{name}/{cell_id}: text {width:.0f}px wide in a {box[2]:.0f}px box"
    assert height <= box[3], f"{name}/{cell_id}: {len(lines)} lines in a {box[3]:.0f}px box"


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


def test_pipeline_diagram_is_dvc_yaml(tmp_path: Path) -> None:
    """A box per stage, and an edge exactly where one stage's output is another's dependency."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    drawn = diagrams.pipeline(REPO / "dvc.yaml", raw)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert set(stages) <= {n.id for n in drawn.nodes}
    between_stages = {(e.source, e.target) for e in drawn.edges if e.source in stages}
    assert ("prepare", "baseline") in between_stages
    assert ("optimize", "evaluate") in between_stages
    assert ("evaluate", "report") in between_stages
    assert {("recipes", "resample"), ("optimize", "resample"), ("resample", "evaluate")} <= between_stages
    assert ("baseline", "optimize") not in between_stages
    assert ("resample", "segment") not in between_stages
    drawn.write(tmp_path, tmp_path)
    check_drawio(tmp_path / "pipeline.drawio")
    assert (tmp_path / "pipeline.png").stat().st_size > 10_000


def test_pipeline_edges_pass_through_no_box() -> None:
    """Every edge's route (exit, waypoints, entry) stays clear of the boxes it does not join."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    drawn = diagrams.pipeline(REPO / "dvc.yaml", raw)
    for edge in drawn.edges:
        route = drawn.route(edge)
        for node in drawn.nodes:
            if node.id in (edge.source, edge.target):
                continue
            for (x0, y0), (x1, y1) in itertools.pairwise(route):
                inside_x = min(x0, x1) < node.x + node.width and node.x < max(x0, x1)
                inside_y = min(y0, y1) < node.y + node.height and node.y < max(y0, y1)
                if x0 == x1:
                    inside_x = node.x < x0 < node.x + node.width
                if y0 == y1:
                    inside_y = node.y < y0 < node.y + node.height
                assert not (inside_x and inside_y), f"edge {edge.id} runs through {node.id}"


def test_pipeline_diagram_reads_at_the_width_of_a_markdown_page() -> None:
    """A rendered Markdown page is about 1,000 px wide; a wider diagram is shrunk and its 12 px text with it."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    x0, _, x1, _ = diagrams.pipeline(REPO / "dvc.yaml", raw).bounds()
    assert x1 - x0 <= 1000, f"the pipeline diagram is {x1 - x0:.0f} px wide"


def test_architecture_diagram_reads_the_keras_model(tmp_path: Path) -> None:
    inputs = keras.Input((7,))
    hidden = keras.layers.Dense(5, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dropout(0.25)(hidden)))
    drawn = diagrams.architectures({"Small: one (version 3)": model})
    text = [" ".join(n.lines) for n in drawn.nodes]
    assert "input: 7 features" in text
    assert any(t.startswith("Dense 5, relu 40 weights") for t in text)
    assert any(t.startswith("Dropout 0.25") for t in text)
    assert any(t.startswith("Dense 1, sigmoid 6 weights") for t in text)
    drawn.write(tmp_path, tmp_path)
    check_drawio(tmp_path / "architectures.drawio")


def test_text_that_does_not_fit_is_caught(tmp_path: Path) -> None:
    drawn = dg.Diagram("tight", "tight", [dg.Node("a", ["a rather long line of text"], width=40, height=40)])
    (tmp_path / "tight.drawio").write_text(drawn.to_drawio())
    with pytest.raises(AssertionError, match="px wide"):
        check_drawio(tmp_path / "tight.drawio")


def test_overlap_and_dangling_edges_are_caught(tmp_path: Path) -> None:
    a, b = dg.Node("a", ["a"]).fit(), dg.Node("b", ["b"]).fit()
    b.x = a.width / 2
    drawn = dg.Diagram("overlap", "overlap", [a, b])
    (tmp_path / "overlap.drawio").write_text(drawn.to_drawio())
    with pytest.raises(AssertionError, match="overlaps"):
        check_drawio(tmp_path / "overlap.drawio")
    b.x = a.width + 10
    drawn.edges.append(dg.Edge("e", "a", "missing"))
    text = drawn.to_drawio().replace('target="missing"', 'target="nowhere"')
    (tmp_path / "dangling.drawio").write_text(text)
    with pytest.raises(AssertionError, match="joins a missing vertex"):
        check_drawio(tmp_path / "dangling.drawio")


def test_study_design_diagram_follows_params() -> None:
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
    ids = [n.id for n in drawn.nodes]
    assert {("resample", "gate"), ("gate", "evaluate")} <= {(e.source, e.target) for e in drawn.edges}
    assert ids.index("resample") < ids.index("gate") < ids.index("evaluate")
