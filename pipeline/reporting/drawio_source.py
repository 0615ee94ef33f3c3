"""Diagrams that are mostly fixed prose, kept as hand-edited draw.io sources with their few
numbers filled in.

A source is ``templates/drawio/<name>.drawio``, an uncompressed draw.io file (open and edit it in
draw.io). Its labels may hold ``${key}`` placeholders, filled with ``string.Template`` from the
values the caller passes; every key must be given. A box's style picks its look by its
``fillColor`` (one of ``diagram.STYLES``), a bold first line is the box's heading, and an edge
keeps its exit and entry points, its waypoints and ``dashed=1``. A filled line wider than its box
is wrapped, and a box that then needs more height grows downward, moving whatever lies below it
down as much: a long list from params.yaml never spills out of its box.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from string import Template

from pipeline.reporting.diagram import PADDING, STYLES, Diagram, Edge, Node, text_size, wrap

SOURCES = Path(__file__).parent / "templates" / "drawio"


def filled(name: str, values: Mapping[str, str]) -> Diagram:
    """``templates/drawio/<name>.drawio`` as a ``Diagram``, its ``${key}`` filled from ``values``."""
    page = ET.parse(SOURCES / f"{name}.drawio").getroot().find("diagram")
    if page is None or (root := page.find("mxGraphModel/root")) is None:
        raise ValueError(f"{name}.drawio: no uncompressed diagram page")
    cells = root.findall("mxCell")
    escaped = {key: html.escape(value, quote=False) for key, value in values.items()}
    diagram = Diagram(name, page.get("name", name))
    diagram.nodes = [_node(c, escaped) for c in cells if c.get("vertex") == "1"]
    diagram.edges = [_edge(c) for c in cells if c.get("edge") == "1"]
    for node in sorted(diagram.nodes, key=lambda n: n.y):
        _fit_text(diagram, node)
    return diagram


def placeholders(name: str) -> set[str]:
    """The keys the source's labels ask for."""
    text = (SOURCES / f"{name}.drawio").read_text(encoding="utf-8")
    return set(re.findall(r"\$\{(\w+)\}", text))


def _style(cell: ET.Element) -> dict[str, str]:
    return dict(item.split("=", 1) for item in cell.get("style", "").split(";") if "=" in item)


def _node(cell: ET.Element, values: Mapping[str, str]) -> Node:
    label = Template(cell.get("value", "")).substitute(values)
    lines = re.split(r"<br\s*/?>", label)
    style = _style(cell)
    kind = next(
        (k for k, look in STYLES.items() if look.fill == style.get("fillColor", "none")),
        "note",
    )
    geometry = cell.find("mxGeometry")
    if geometry is None:
        raise ValueError(f"box {cell.get('id')} has no geometry")
    x, y, width, height = (float(geometry.get(k, 0)) for k in ("x", "y", "width", "height"))
    text = [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in lines]
    return Node(str(cell.get("id")), text, kind, x, y, width, height, bold_first=lines[0].startswith("<b>"))


def _edge(cell: ET.Element) -> Edge:
    style = _style(cell)
    points = cell.findall("mxGeometry/Array/mxPoint")
    return Edge(
        str(cell.get("id")),
        str(cell.get("source")),
        str(cell.get("target")),
        (float(style.get("exitX", 1.0)), float(style.get("exitY", 0.5))),
        (float(style.get("entryX", 0.0)), float(style.get("entryY", 0.5))),
        [(float(p.get("x", 0)), float(p.get("y", 0))) for p in points],
        style.get("dashed") == "1",
    )


def _fit_text(diagram: Diagram, node: Node) -> None:
    """Wrap the box's lines to its width; if they then need more height, grow it and move what
    lies below its bottom down as much."""
    room = node.width - 2 * PADDING
    lines = [node.lines[0]] if node.bold_first else []
    lines += [piece for line in node.lines[len(lines) :] for piece in (wrap(line, room) or [""])]
    node.lines = lines
    need = text_size(lines, node.bold_first)[1] - node.height
    if need <= 0:
        return
    bottom = node.y + node.height
    node.height += need
    for other in diagram.nodes:
        if other.y >= bottom:
            other.y += need
    for edge in diagram.edges:
        edge.waypoints = [(x, y + need if y >= bottom else y) for x, y in edge.waypoints]
