"""Layered layout of a DAG by a layout library, translated into a ``Diagram``'s coordinates.

grandalf (a pure-Python Sugiyama layout, pinned in requirements.lock) ranks the boxes into layers,
orders each layer to reduce crossings and gives every box, and every point where a long edge
passes a layer (its "dummy" vertex), a horizontal position. This module only translates: boxes of
one layer are given one height and one top, so that every edge leaves a bottom and enters a top
in the gap between two layers; a long edge runs straight down through each layer it passes, at
its dummy's position, which the library keeps at least ``gap_x / 2`` from the boxes beside it
(boxes keep ``gap_x`` between them). Where the library's averaged positions bring two slots
closer than that, they are pushed apart again (``_separate``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from grandalf.graphs import Edge as GEdge
from grandalf.graphs import Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from pipeline.reporting.diagram import Diagram, Edge, Node

DUMMY_WIDTH = 4.0  # the room a long edge takes where it passes a layer
STUB = 0.25  # the share of a gap an edge spends leaving (and entering) a box straight down


@dataclass
class _View:
    """The size grandalf reads (``w``, ``h``) and the centre it writes (``xy``)."""

    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class _Slot:
    """One place in a layer: a box, or the passage of a long edge (``node`` None)."""

    node: Node | None
    x: float  # centre
    width: float


@dataclass
class _Layers:
    """The library's result: the slots of each layer, left to right, each box's layer, and each
    edge's slots from its source's to its target's."""

    slots: list[list[_Slot]] = field(default_factory=list)
    rank: dict[str, int] = field(default_factory=dict)
    passages: dict[tuple[str, str], list[_Slot]] = field(default_factory=dict)


def layered(
    diagram: Diagram,
    edges: Sequence[tuple[str, str]],
    gap_x: float = 40.0,
    gap_y: float = 60.0,
    width: float | None = None,
) -> float:
    """Place the boxes of ``diagram`` top-down by layers, each connected part (a box in no edge is
    one) ``gap_x`` right of the one before, and connect them. With ``width``, the library's positions are
    drawn together (each layer keeping its order and spacing) until each part is at most that
    wide, if it can be. Returns the right edge of what was placed."""
    nodes = {n.id: n for n in diagram.nodes}
    vertices = {name: Vertex(name) for name in nodes}
    for name, vertex in vertices.items():  # boxes keep gap_x between them, lines half as much
        vertex.view = _View(nodes[name].width + gap_x / 2, nodes[name].height)
    graph = Graph(list(vertices.values()), [GEdge(vertices[s], vertices[t]) for s, t in edges])
    right, before = 0.0, len(diagram.edges)
    for part in graph.C:
        layers = _lay_out(part, nodes, gap_x, gap_y)
        _compact(layers, gap_x / 2, width)
        _separate(layers, gap_x / 2, right - min(s.x - s.width / 2 for row in layers.slots for s in row))
        spans = _place_rows(layers, gap_y)
        for (source, target), passage in layers.passages.items():
            _connect(diagram, (source, target), passage, spans[layers.rank[source] :], gap_y)
        right = max(s.x + s.width / 2 for row in layers.slots for s in row) + gap_x / 2
    _spread_ports(diagram, diagram.edges[before:])
    return right - gap_x / 2 - gap_x / 4


def _lay_out(part: Graph, nodes: dict[str, Node], gap_x: float, gap_y: float) -> _Layers:
    sugiyama = SugiyamaLayout(part)
    sugiyama.xspace, sugiyama.yspace = gap_x / 2, gap_y
    sugiyama.dw, sugiyama.dh = DUMMY_WIDTH, 1.0
    roots = [v for v in part.sV if not v.e_in()]
    sugiyama.init_all(roots=roots, optimize=True)
    sugiyama.draw(3)
    layers, slot = _Layers(), dict[int, _Slot]()
    for k, layer in enumerate(sugiyama.layers):
        row = []
        for v in sorted(layer, key=lambda v: v.view.xy[0]):
            slot[id(v)] = _Slot(nodes[v.data] if isinstance(v, Vertex) else None, v.view.xy[0], v.view.w)
            row.append(slot[id(v)])
            if isinstance(v, Vertex):
                layers.rank[v.data] = k
        layers.slots.append(row)
    for edge in part.sE:
        ends = edge.v
        controls = sugiyama.ctrls.get(edge, {})
        inner = [controls[r] for r in sorted(controls)[1:-1]]
        layers.passages[(ends[0].data, ends[1].data)] = [slot[id(v)] for v in (ends[0], *inner, ends[1])]
    return layers


def _compact(layers: _Layers, space: float, width: float | None) -> None:
    """Scale the positions down until the part fits ``width`` with ``space`` kept between slots."""
    centres = [[s.x for s in row] for row in layers.slots]
    for scale in [1 - k / 40 for k in range(31)] if width is not None else [1.0]:
        for row, xs in zip(layers.slots, centres, strict=True):
            for s, x in zip(row, xs, strict=True):
                s.x = scale * x
        _separate(layers, space, 0.0)
        slots = [s for row in layers.slots for s in row]
        if width is None or max(s.x + s.width / 2 for s in slots) - min(s.x - s.width / 2 for s in slots) <= width:
            return


def _separate(layers: _Layers, space: float, shift: float) -> None:
    """Keep ``space`` between neighbouring slots in every layer (the library's averaged alignments
    can bring two closer), then move everything right by ``shift``."""
    for row in layers.slots:
        for left, right in itertools.pairwise(row):
            least = left.x + (left.width + right.width) / 2 + space
            right.x = max(right.x, least)
    for row in layers.slots:
        for s in row:
            s.x += shift


def _place_rows(layers: _Layers, gap_y: float) -> list[tuple[float, float]]:
    """Give each layer's boxes its tallest box's height and one top; returns each layer's (top, bottom)."""
    spans, y = [], 0.0
    for row in layers.slots:
        boxes = [s.node for s in row if s.node is not None]
        height = max((b.height for b in boxes), default=0.0)
        for s in row:
            if s.node is not None:
                s.node.height, s.node.x, s.node.y = height, s.x - s.node.width / 2, y
        spans.append((y, y + height))
        y += height + gap_y
    return spans


def _connect(
    diagram: Diagram,
    ends: tuple[str, str],
    passage: Sequence[_Slot],
    spans: Sequence[tuple[float, float]],
    gap_y: float,
) -> None:
    """Out of the source's bottom (``spans[0]`` is its layer), straight down each layer the edge
    passes, into the target's top."""
    points = [(passage[0].x, spans[0][1] + STUB * gap_y)]
    for (top, bottom), slot in zip(spans[1:], passage[1:-1], strict=False):
        points += [(slot.x, top), (slot.x, bottom)]
    points.append((passage[-1].x, diagram.node(ends[1]).y - STUB * gap_y))
    diagram.connect(ends[0], ends[1], exit=(0.5, 1.0), entry=(0.5, 0.0), waypoints=points)


def _spread_ports(diagram: Diagram, edges: Sequence[Edge]) -> None:
    """Edges leaving one bottom (entering one top) at points spread along it, in the order of
    where they go (come from), so that they do not start (end) on one point."""
    for end in ("source", "target"):
        groups: dict[str, list[Edge]] = {}
        for edge in edges:
            groups.setdefault(getattr(edge, end), []).append(edge)
        for name, members in groups.items():
            node = diagram.node(name)
            beyond = 2 if end == "source" else -3  # the route's point after the stub out of (into) this box
            members.sort(key=lambda edge: diagram.route(edge)[beyond][0])
            for k, edge in enumerate(members):
                fx = (k + 1) / (len(members) + 1)
                px = node.x + fx * node.width
                if end == "source":
                    edge.exit = (fx, 1.0)
                    edge.waypoints[0] = (px, edge.waypoints[0][1])
                else:
                    edge.entry = (fx, 0.0)
                    edge.waypoints[-1] = (px, edge.waypoints[-1][1])
