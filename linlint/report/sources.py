"""A finding in the source's terms, for the reporters: its modules in order
(``blocks.0.expand (Conv2d) → blocks.0.conv (Conv2d)``), its source lines, and the
repository file and line it is located at (``linlint.model.repository``).

``Sources`` belongs to one report: it lists the repository's files once, and only when
some finding has a source line to place.
"""

from __future__ import annotations

from pathlib import Path

from linlint.checking.findings import Finding
from linlint.model.origins import Origin
from linlint.model.repository import SourceFiles

LOCATIONS = ("source", "model")


def chain_text(finding: Finding) -> str | None:
    """The modules of the finding's nodes in order, each once where consecutive nodes share
    one (a node with no origin by its name); None when no node has an origin."""
    origins = finding.node_origins
    if not any(origins):
        return None
    labels: list[str] = []
    for node, origin in zip(finding.nodes, origins, strict=True):
        label = origin.label if origin is not None else node
        if not labels or labels[-1] != label:
            labels.append(label)
    return " → ".join(labels)


def frames(finding: Finding) -> list[Origin]:
    """The origins that have a source line, one per distinct line, in node order."""
    found: dict[str, Origin] = {}
    for origin in finding.node_origins:
        if origin is not None and origin.where is not None:
            found.setdefault(origin.where, origin)
    return list(found.values())


class Sources:
    """Source lines of findings placed in one repository (``root``; None: not placed)."""

    def __init__(self, root: Path | None, locations: str = "source") -> None:
        self.root = root
        self.locations = locations
        self._files = SourceFiles(root) if root is not None else None

    def find(self, origin: Origin) -> str | None:
        """The repository file (relative to the root) the origin's recorded file is."""
        if self._files is None or origin.file is None:
            return None
        return self._files.find(origin.file)

    def located(self, finding: Finding) -> tuple[str, int] | None:
        """Where the finding's primary location is in the source: the first node's source
        line found in the repository, ``(path relative to the root, line)``; None when
        locations are the model's or no line is found."""
        if self.locations != "source":
            return None
        for origin in frames(finding):
            path = self.find(origin)
            if path is not None and origin.line is not None:
                return path, origin.line
        return None

    def shown_path(self, origin: Origin, cwd_root: Path | None = None) -> str:
        """The origin's file as shown to users: the repository file relative to
        ``cwd_root`` (default: the current folder) where found, else as recorded."""
        path = self.find(origin)
        if path is None or self.root is None:
            return origin.file or ""
        full = self.root / path
        try:
            return full.relative_to((cwd_root or Path.cwd()).resolve()).as_posix()
        except ValueError:
            return full.as_posix()

    def shown(self, origins: list[Origin], cwd_root: Path | None = None) -> str:
        """``blocks/model.py:20, 22 in forward``: source lines, those of one file and
        function together."""
        groups: list[tuple[str, str | None, list[str]]] = []
        for origin in origins:
            path = self.shown_path(origin, cwd_root)
            if groups and groups[-1][:2] == (path, origin.function):
                groups[-1][2].append(str(origin.line))
            else:
                groups.append((path, origin.function, [str(origin.line)]))
        return ", ".join(
            f"{path}:{', '.join(lines)}" + (f" in {function}" if function else "")
            for path, function, lines in groups
        )


__all__ = ["LOCATIONS", "Sources", "chain_text", "frames"]
