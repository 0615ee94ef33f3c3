"""One diagram description, two renderings: draw.io XML (to edit) and a PNG (to read).

Both are drawn from the same boxes, text and edge routes, so they cannot disagree. Boxes are
sized from their text with real font metrics (DejaVu Sans, wider than draw.io's Helvetica),
and edges carry explicit waypoints, so draw.io draws them where the PNG does.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from pipeline.io import write_atomic

FONT_SIZE = 12
LINE_HEIGHT = 1.3  # draw.io's line height for HTML labels is about 1.2 x the font size
PADDING = 10  # inside a box, each side
FONT_FAMILY = "Helvetica"


@dataclass(frozen=True)
class Look:
    """How a kind of box is drawn."""

    fill: str
    stroke: str
    rounded: bool


STYLES: dict[str, Look] = {
    "stage": Look("#dae8fc", "#6c8ebf", True),
    "data": Look("#fff2cc", "#d6b656", False),
    "store": Look("#e1d5e7", "#9673a6", True),
    "decision": Look("#f8cecc", "#b85450", True),
    "good": Look("#d5e8d4", "#82b366", True),
    "note": Look("#f5f5f5", "#666666", False),
    "cell": Look("#ffffff", "#999999", False),
    "header": Look("#eeeeee", "#999999", False),
    "title": Look("none", "none", False),
}


@lru_cache(maxsize=1)
def _measurer() -> tuple[TextToPath, FontProperties, FontProperties]:
    regular = FontProperties(family="DejaVu Sans", size=FONT_SIZE)
    bold = FontProperties(family="DejaVu Sans", size=FONT_SIZE, weight="bold")
    return TextToPath(), regular, bold


def text_width(text: str, bold: bool = False) -> float:
    """Width in pixels (draw.io units) of one line at ``FONT_SIZE``."""
    measure, regular, heavy = _measurer()
    width, _, _ = measure.get_text_width_height_descent(text, heavy if bold else regular, ismath=False)
    return float(width)


def text_size(lines: Sequence[str], bold_first: bool) -> tuple[float, float]:
    """The smallest box (width, height) holding ``lines`` with padding."""
    widths = [text_width(line, bold=bold_first and i == 0) for i, line in enumerate(lines)]
    return max(widths, default=0.0) + 2 * PADDING, len(lines) * FONT_SIZE * LINE_HEIGHT + 2 * PADDING


@dataclass
class Node:
    id: str
    lines: list[str]
    kind: str = "stage"
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    bold_first: bool = True

    def fit(self, min_width: float = 0.0, min_height: float = 0.0) -> Node:
        width, height = text_size(self.lines, self.bold_first)
        self.width, self.height = max(width, min_width), max(height, min_height)
        return self

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def port(self, fx: float, fy: float) -> tuple[float, float]:
        return self.x + fx * self.width, self.y + fy * self.height


@dataclass
class Edge:
    id: str
    source: str
    target: str
    exit: tuple[float, float] = (1.0, 0.5)  # relative point on the source box
    entry: tuple[float, float] = (0.0, 0.5)  # relative point on the target box
    waypoints: list[tuple[float, float]] = field(default_factory=list)
    dashed: bool = False


@dataclass
class Diagram:
    name: str
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def connect(
        self,
        source: str,
        target: str,
        exit: tuple[float, float] = (1.0, 0.5),
        entry: tuple[float, float] = (0.0, 0.5),
        waypoints: Sequence[tuple[float, float]] = (),
        dashed: bool = False,
    ) -> Edge:
        edge = Edge(f"e{len(self.edges) + 1}-{source}-{target}", source, target, exit, entry, list(waypoints), dashed)
        self.edges.append(edge)
        return edge

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [n.x for n in self.nodes] + [p[0] for e in self.edges for p in e.waypoints]
        ys = [n.y for n in self.nodes] + [p[1] for e in self.edges for p in e.waypoints]
        x2 = [n.x + n.width for n in self.nodes] + [p[0] for e in self.edges for p in e.waypoints]
        y2 = [n.y + n.height for n in self.nodes] + [p[1] for e in self.edges for p in e.waypoints]
        return min(xs), min(ys), max(x2), max(y2)

    def route(self, edge: Edge) -> list[tuple[float, float]]:
        """The polyline both renderers draw: exit port, waypoints, entry port."""
        start = self.node(edge.source).port(*edge.exit)
        end = self.node(edge.target).port(*edge.entry)
        return [start, *edge.waypoints, end]

    # ---- draw.io -------------------------------------------------------------------------
    def to_drawio(self) -> str:
        """An uncompressed ``mxfile``: one page, one ``mxGraphModel``."""
        mxfile = ET.Element("mxfile", host="pipeline.reporting.diagram", type="device")
        page = ET.SubElement(mxfile, "diagram", id=self.name, name=self.title)
        _x0, _y0, x1, y1 = self.bounds()
        model = ET.SubElement(
            page,
            "mxGraphModel",
            dx="0",
            dy="0",
            grid="0",
            gridSize="10",
            guides="1",
            tooltips="1",
            connect="1",
            arrows="1",
            fold="1",
            page="0",
            pageScale="1",
            pageWidth=str(round(x1 + 40)),
            pageHeight=str(round(y1 + 40)),
            math="0",
            shadow="0",
        )
        root = ET.SubElement(model, "root")
        ET.SubElement(root, "mxCell", {"id": "0"})
        ET.SubElement(root, "mxCell", {"id": "1", "parent": "0"})
        for node in self.nodes:
            self._vertex(root, node)
        for edge in self.edges:
            self._edge(root, edge)
        ET.indent(mxfile)
        return ET.tostring(mxfile, encoding="unicode") + "\n"

    def _vertex(self, root: ET.Element, node: Node) -> None:
        attributes = {"id": node.id, "value": self._label(node), "style": self._style(node), "vertex": "1"}
        cell = ET.SubElement(root, "mxCell", {**attributes, "parent": "1"})
        size = {"x": node.x, "y": node.y, "width": node.width, "height": node.height}
        ET.SubElement(cell, "mxGeometry", {**{k: _n(v) for k, v in size.items()}, "as": "geometry"})

    @staticmethod
    def _edge(root: ET.Element, edge: Edge) -> None:
        style = (
            "edgeStyle=none;rounded=0;html=1;endArrow=block;endFill=1;strokeColor=#333333;"
            f"exitX={edge.exit[0]};exitY={edge.exit[1]};exitDx=0;exitDy=0;"
            f"entryX={edge.entry[0]};entryY={edge.entry[1]};entryDx=0;entryDy=0;" + ("dashed=1;" if edge.dashed else "")
        )
        attributes = {"id": edge.id, "style": style, "edge": "1", "parent": "1"}
        cell = ET.SubElement(root, "mxCell", {**attributes, "source": edge.source, "target": edge.target})
        geometry = ET.SubElement(cell, "mxGeometry", {"relative": "1", "as": "geometry"})
        if edge.waypoints:
            points = ET.SubElement(geometry, "Array", {"as": "points"})
            for x, y in edge.waypoints:
                ET.SubElement(points, "mxPoint", {"x": _n(x), "y": _n(y)})

    @staticmethod
    def _label(node: Node) -> str:
        lines = [html.escape(line, quote=False) for line in node.lines]
        if node.bold_first and lines:
            lines[0] = f"<b>{lines[0]}</b>"
        return "<br>".join(lines)

    @staticmethod
    def _style(node: Node) -> str:
        look = STYLES[node.kind]
        return (
            f"rounded={int(look.rounded)};whiteSpace=wrap;html=1;fillColor={look.fill};"
            f"strokeColor={look.stroke};fontFamily={FONT_FAMILY};fontSize={FONT_SIZE};"
            f"align=center;verticalAlign=middle;spacing={PADDING // 2};"
        )

    # ---- PNG -----------------------------------------------------------------------------
    def to_png(self, path: Path, dpi: int = 110) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

        x0, y0, x1, y1 = self.bounds()
        margin = 20
        width, height = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
        fig = plt.figure(figsize=(width / 72, height / 72), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(x0 - margin, x1 + margin)
        ax.set_ylim(y1 + margin, y0 - margin)  # draw.io's y axis points down
        ax.axis("off")
        for edge in self.edges:
            points = self.route(edge)
            style = (0, (4, 3)) if edge.dashed else "solid"
            xs, ys = zip(*points[:-1], strict=True)
            ax.plot([*xs, points[-1][0]], [*ys, points[-1][1]], color="#333333", linewidth=1, linestyle=style)
            arrow = FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=12, color="#333333")
            ax.add_patch(arrow)
        for node in self.nodes:
            look = STYLES[node.kind]
            if look.fill != "none":
                box = FancyBboxPatch(
                    (node.x, node.y),
                    node.width,
                    node.height,
                    boxstyle="round,pad=0,rounding_size=8" if look.rounded else "square,pad=0",
                    facecolor=look.fill,
                    edgecolor=look.stroke,
                    linewidth=1,
                )
                ax.add_patch(box)
            cx, cy = node.center
            top = cy - (len(node.lines) - 1) * FONT_SIZE * LINE_HEIGHT / 2
            for i, line in enumerate(node.lines):
                ax.text(
                    cx,
                    top + i * FONT_SIZE * LINE_HEIGHT,
                    line,
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE,
                    family="DejaVu Sans",
                    fontweight="bold" if node.bold_first and i == 0 else "normal",
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png")
        plt.close(fig)

    def normalize(self, margin: float = 0.0) -> Diagram:
        """Move everything so the drawing starts at (``margin``, ``margin``): draw.io clips negative space,
        and renderers that size the image from the bounds would clip what an offset pushes out."""
        x0, y0, _, _ = self.bounds()
        dx, dy = margin - x0, margin - y0
        for node in self.nodes:
            node.x, node.y = node.x + dx, node.y + dy
        for edge in self.edges:
            edge.waypoints = [(x + dx, y + dy) for x, y in edge.waypoints]
        return self

    def write(self, drawio_dir: Path, png_dir: Path) -> tuple[Path, Path]:
        """``<drawio_dir>/<name>.drawio`` and ``<png_dir>/<name>.png``, from this one description."""
        self.normalize()
        source, image = drawio_dir / f"{self.name}.drawio", png_dir / f"{self.name}.png"
        text = self.to_drawio()

        def write_text(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        write_atomic(source, write_text)
        write_atomic(image, self.to_png)
        return source, image


def wrap(text: str, width: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` pixels of text; a word wider than that (a path, a dotted
    name) is broken after its ``/``, ``.`` or ``_``."""
    lines: list[str] = []
    for word in text.split():
        first, *rest = _pieces(word, width, bold)
        if lines and text_width(f"{lines[-1]} {first}", bold) <= width:
            lines[-1] = f"{lines[-1]} {first}"
        else:
            lines.append(first)
        lines += rest
    return lines


def _pieces(word: str, width: float, bold: bool) -> list[str]:
    if text_width(word, bold) <= width:
        return [word]
    pieces = [""]
    for part in re.split(r"(?<=[/._])", word):
        if pieces[-1] and text_width(pieces[-1] + part, bold) > width:
            pieces.append("")
        pieces[-1] += part
    return pieces


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
