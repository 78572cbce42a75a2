"""A layered layout of a small directed acyclic graph, top to bottom, in pure Python.

1. *Ranks*: topological generations (``graphlib``: the nodes whose inputs are all in
   earlier generations form the next one), so every arrow points down.
2. *Long arrows* get one dummy point per rank they cross, so they bend around the boxes
   of the ranks between instead of running through them.
3. *Order within a rank*: start from the order the nodes come in, then sweep down and up
   placing each node at the mean position of its neighbours in the rank before
   (the barycenter heuristic), keeping the order with the fewest crossings.
4. *Coordinates*: each rank is a row, its boxes side by side, centred under the widest
   row; an arrow runs from the bottom of its tail's box through its dummy points to the
   top of its head's box.

Regions are small (a handful to a few dozen nodes), so the quadratic crossing count is
cheap. The standard library's ``graphlib`` gives the generations; nothing else is needed.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass

SWEEPS = 6
RANK_GAP = 34  # vertical space between rows, for the arrows and their labels
NODE_GAP = 18


@dataclass(frozen=True)
class Placed:
    x: float  # left
    y: float  # top
    width: float
    height: float

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Placed]
    paths: tuple[tuple[tuple[float, float], ...], ...]  # one per arrow, in the arrows' order
    width: float
    height: float
    ranks: dict[str, int]


def generations(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's topological generation (0 for nodes that nothing points to)."""
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    for tail, head in edges:
        preds[head].add(tail)
    sorter = graphlib.TopologicalSorter(preds)
    sorter.prepare()
    rank, level = {}, 0
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=nodes.index)
        for n in ready:
            rank[n] = level
        sorter.done(*ready)
        level += 1
    return rank


def crossings(rows: list[list[str]], links: list[tuple[str, str]]) -> int:
    """Pairs of links between adjacent rows that cross."""
    pos = {n: i for row in rows for i, n in enumerate(row)}
    count = 0
    for i, (a, b) in enumerate(links):
        for c, d in links[i + 1 :]:
            if (pos[a] - pos[c]) * (pos[b] - pos[d]) < 0:
                count += 1
    return count


def _order(rows: list[list[str]], links: list[tuple[str, str]], rank: dict[str, int]):
    """Reorder each row by the barycenter of its neighbours, keeping the best order."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for a, b in links:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)
    best, best_count = [list(r) for r in rows], crossings(rows, links)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in indices:
            ref = rows[r - 1] if downward else rows[r + 1]
            pos = {n: i for i, n in enumerate(ref)}
            near = up if downward else down

            def key(n: str, row=rows[r], pos=pos, near=near) -> float:
                ps = [pos[m] for m in near.get(n, ()) if m in pos]
                return sum(ps) / len(ps) if ps else row.index(n)

            rows[r] = sorted(rows[r], key=key)
        count = crossings(rows, links)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
    return best


def layered(
    sizes: dict[str, tuple[float, float]], edges: list[tuple[str, str]], margin: float = 8
) -> Layout:
    """Place boxes of the given ``(width, height)`` (in insertion order) so that every
    edge points down; one polyline per edge."""
    nodes = list(sizes)
    rank = generations(nodes, edges)
    depth = max(rank.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for n in nodes:
        rows[rank[n]].append(n)
    chains: list[list[str]] = []  # per edge: tail, its dummies, head
    links: list[tuple[str, str]] = []
    for k, (tail, head) in enumerate(edges):
        chain = [tail]
        for r in range(rank[tail] + 1, rank[head]):
            dummy = f"\0{k}:{r}"
            rows[r].append(dummy)
            chain.append(dummy)
        chain.append(head)
        chains.append(chain)
        links += list(zip(chain, chain[1:], strict=False))
    rows = _order(rows, links, rank)

    def size(n: str) -> tuple[float, float]:
        return sizes.get(n, (2.0, 0.0))

    heights = [max((size(n)[1] for n in row), default=0.0) for row in rows]
    widths = [sum(size(n)[0] for n in row) + NODE_GAP * max(len(row) - 1, 0) for row in rows]
    total_width = max(widths, default=0.0) + 2 * margin
    placed: dict[str, Placed] = {}
    y = margin
    for row, height, width in zip(rows, heights, widths, strict=True):
        x = (total_width - width) / 2
        for n in row:
            w, h = size(n)
            placed[n] = Placed(x, y + (height - h) / 2, w, h)
            x += w + NODE_GAP
        y += height + RANK_GAP
    paths = []
    for chain in chains:
        tail, head = placed[chain[0]], placed[chain[-1]]
        points = [(tail.centre, tail.y + tail.height)]
        points += [(placed[d].centre, placed[d].y) for d in chain[1:-1]]
        points.append((head.centre, head.y))
        paths.append(tuple(points))
    boxes = {n: p for n, p in placed.items() if not n.startswith("\0")}
    return Layout(boxes, tuple(paths), total_width, y - RANK_GAP + margin, rank)
