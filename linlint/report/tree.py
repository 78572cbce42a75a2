"""A region with branches as a small text tree, for the text report::

    x ─┬─ conv3x3 (Conv 3x3) → bn3x3 (BatchNorm) ─┬─→ sum (Sum)
       ├─ conv1x1 (Conv 1x1) → bn1x1 (BatchNorm) ─┤
       └─ bn_identity (BatchNorm) ────────────────┘

The region is read from its source: a node with one successor continues the line; a fork
becomes one line per branch, the branches meeting at the fork's immediate post-dominator
(the join every path from the fork reaches first), branches within branches nesting.
A direct path from the fork to the join (a residual) is a bare line. A region that is no
such nest of series and parallel parts (or that has no join, or several sources) gets no
tree: the report keeps its chain of names.
"""

from __future__ import annotations

from linlint.analysis.pictures import RegionPicture
from linlint.report.drawing import op_label

START = "\0start"


class _NotNested(Exception):
    """The region is not a nest of series and parallel parts."""


class _Block:
    """Lines of text, the flow entering and leaving on the first one."""

    def __init__(self, lines: list[str], parallel: bool = False) -> None:
        width = max((len(line) for line in lines), default=0)
        self.lines = [line.ljust(width) for line in lines]
        self.parallel = parallel

    @property
    def width(self) -> int:
        return len(self.lines[0]) if self.lines else 0


def _series(blocks: list[_Block]) -> _Block:
    if not blocks:
        return _Block([""])
    lines = list(blocks[0].lines)
    prev = blocks[0]
    for block in blocks[1:]:
        joint = "─→ " if prev.parallel else " ─" if block.parallel else " → "
        height = max(len(lines), len(block.lines))
        width = len(lines[0])
        lines += [" " * width] * (height - len(lines))
        rows = block.lines + [" " * block.width] * (height - len(block.lines))
        lines = [
            a + (joint if i == 0 else " " * len(joint)) + b
            for i, (a, b) in enumerate(zip(lines, rows, strict=True))
        ]
        prev = block
    return _Block(lines, parallel=blocks[-1].parallel and len(blocks) == 1)


def _parallel(branches: list[_Block]) -> _Block:
    width = max(b.width for b in branches)
    last = len(branches) - 1
    lines: list[str] = []
    anchors = []
    for k, branch in enumerate(branches):
        for i, line in enumerate(branch.lines or [""]):
            if i == 0:
                anchors.append(len(lines))
                left = "┬─" if k == 0 else "└─" if k == last else "├─"
                body = (
                    (" " + line + " ").ljust(width + 2, "─") if line.strip() else "─" * (width + 2)
                )
                right = "┬" if k == 0 else "┘" if k == last else "┤"
            else:
                left = "  " if k == last else "│ "
                body = line.ljust(width + 2)
                right = " "
            lines.append(left + body + right)
    for row in range(anchors[0] + 1, anchors[-1]):
        if row not in anchors:
            lines[row] = lines[row][:-1] + "│"
    return _Block(lines, parallel=True)


def _graph(picture: RegionPicture):
    """Successors among the region's nodes (the source as ``START``), and the exit node."""
    region = {n.id for n in picture.members}
    succ: dict[str, list[str]] = {START: []}
    preds: dict[str, int] = {}
    exit_node = None
    for e in picture.edges:
        if e.role == "exit" and e.tail in region:
            exit_node = e.tail
        if e.head not in region or e.role not in ("source", "inner"):
            continue
        tail = START if e.role == "source" else e.tail
        succ.setdefault(tail, []).append(e.head)
        preds[e.head] = preds.get(e.head, 0) + 1
    if exit_node is None and picture.members:
        exit_node = picture.members[-1].id
    return succ, preds, exit_node


def _post_dominators(succ: dict[str, list[str]], order: list[str]) -> dict[str, set[str]]:
    pdom: dict[str, set[str]] = {}
    for n in reversed(order):
        nexts = succ.get(n, [])
        common = set.intersection(*(pdom[s] for s in nexts)) if nexts else set()
        pdom[n] = common | {n}
    return pdom


def branch_tree(picture: RegionPicture | None) -> list[str] | None:
    """The tree's lines, or None where the region is better read as a chain."""
    if picture is None or len(picture.sources) != 1:
        return None
    succ, preds, exit_node = _graph(picture)
    if not any(count > 1 for count in preds.values()):
        return None  # no join: a chain reads as well
    order = [START] + [n.id for n in picture.members]
    if exit_node is None or any(h not in order for hs in succ.values() for h in hs):
        return None
    pdom = _post_dominators(succ, order)
    labels = {
        n.id: f"{n.name} ({op_label(n.op_type, n.attributes, n.weights)})" for n in picture.members
    }
    labels[START] = picture.sources[0]
    seen: set[str] = set()

    def take(node: str) -> _Block:
        if node in seen:
            raise _NotNested
        seen.add(node)
        return _Block([labels[node]])

    def run(node: str, stop: str | None, branch: bool = False) -> tuple[_Block, str | None]:
        """From ``node`` to ``stop`` (excluded); a branch ends at the first join it meets
        (returned), since several branches may meet in a chain of joins."""
        blocks: list[_Block] = []
        joined = False  # ``node`` is the join of a fork this run drew: it is this run's
        while node != stop:
            if branch and preds.get(node, 0) > 1 and not joined:
                return _series(blocks), node
            if not branch and preds.get(node, 0) > 1 and not joined:
                raise _NotNested  # a join reached from outside a fork's branches
            blocks.append(take(node))
            joined = False
            nexts = succ.get(node, [])
            if len(nexts) == 1:
                node = nexts[0]
                continue
            if not nexts:
                break
            join = min(pdom[node] - {node}, key=order.index, default=None)
            if join is None or (stop is not None and order.index(join) > order.index(stop)):
                raise _NotNested
            runs = [run(s, join, True) for s in nexts]
            blocks.append(_parallel([block for block, _ in runs]))
            ends = {end for _, end in runs}
            meet = min(ends, key=order.index)
            while meet != join:  # a chain of joins: a + b + c as two Adds
                blocks.append(take(meet))
                if len(succ.get(meet, [])) != 1:
                    raise _NotNested
                ends.discard(meet)
                meet = succ[meet][0]
            if ends - {join}:
                raise _NotNested
            node, joined = join, True
        return _series(blocks), node

    try:
        block, _ = run(START, None)
    except _NotNested:
        return None
    if seen != set(order):
        return None
    return [line.rstrip() for line in block.lines]
