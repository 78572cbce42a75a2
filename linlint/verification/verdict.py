"""What a verification found: one record per output compared, one verdict over all of them.

Both records say themselves in words (``OutputComparison.describe``,
``Verification.summary``): the one line is part of the verdict, shown by the
command line, given as the reason a fold is refused, and read by callers of
``linlint.verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linlint.wording import quoted


def _times(ratio: float) -> str:
    return f"{ratio:.2g}×"


def sizes_text(sizes) -> str:
    """``x=1x8x1x1, 1x8x7x7`` (one input), ``(a=1x2, b=1x3), (a=7x2, b=7x3)`` (several)."""

    def shape(dims) -> str:
        return "x".join(str(d) for d in dims) or "(scalar)"

    if all(len(at) == 1 for at in sizes) and len({next(iter(at)) for at in sizes}) == 1:
        name = next(iter(sizes[0]))
        return f"{name}=" + ", ".join(shape(at[name]) for at in sizes)
    return ", ".join(
        "(" + ", ".join(f"{name}={shape(dims)}" for name, dims in at.items()) + ")" for at in sizes
    )


@dataclass(frozen=True)
class OutputComparison:
    """How one output of the candidate compares with the original's, over all runs.

    ``noise`` is the original's own noise at the element where the candidate is worst
    relative to it, ``ratio`` that worst ``|candidate - original| / noise`` (0 when equal),
    ``allowed`` the largest ratio accepted (``NOISE_MULTIPLE``; None when the user's
    ``atol``/``rtol`` decided; 0 for exact dtypes). ``atol``/``rtol`` are the user's
    tolerances when given, else the floor under the noise (``noise >= atol + rtol·|x|``).
    ``max_rel`` is ``|candidate - original| / max(|original|, noise)``. ``problem`` names a
    mismatch that is not about values (shape, dtype, NaN positions, missing output).
    """

    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    atol: float
    rtol: float
    ok: bool
    problem: str = ""
    noise: float = 0.0
    ratio: float = 0.0
    allowed: float | None = None
    dtype: str = ""

    @property
    def exact(self) -> bool:
        """Compared for exact equality (integers, bool, strings)."""
        return self.allowed == 0.0

    def describe(self) -> str:
        """One phrase: how this output compares."""
        if self.problem:
            return f"output {quoted(self.name)}: {self.problem}"
        verb = "equal" if self.ok else "differs"
        if self.exact:
            exact = f"(exact {self.dtype}): max abs {self.max_abs:.1e}"
            return f"output {quoted(self.name)} {verb} {exact}"
        noise = f"{_times(self.ratio)} the original's own {self.dtype} noise ({self.noise:.1e})"
        if self.allowed is None:
            return (
                f"output {quoted(self.name)} {verb}: max abs {self.max_abs:.1e} (given atol "
                f"{self.atol:.1e}, rtol {self.rtol:.1e}); {noise}"
            )
        return (
            f"output {quoted(self.name)} {verb}: max abs {self.max_abs:.1e}, at worst {noise}, "
            f"allowed {_times(self.allowed)}"
        )


@dataclass(frozen=True)
class Verification:
    """The verdict of running two models on the same inputs.

    ``problem`` is set when the models cannot be compared output by output
    (different output names, inputs the original does not have, a candidate that
    cannot run where the original can, no input set the original runs on).
    ``skipped`` labels the generated input sets the original itself cannot run on.
    """

    ok: bool
    outputs: tuple[OutputComparison, ...]
    runs: int
    latency_original_ms: float | None = None
    latency_candidate_ms: float | None = None
    problem: str = ""
    skipped: tuple[str, ...] = field(default=())
    #: The input shapes the runs were at, each once, in order (``{input: shape}`` per
    #: size): given where the model leaves a size open, so the verdict says what it covers.
    sizes: tuple[dict[str, tuple[int, ...]], ...] = field(default=())

    @property
    def speedup(self) -> float | None:
        """Original latency over candidate latency (above 1: the candidate is faster)."""
        if not self.latency_original_ms or not self.latency_candidate_ms:
            return None
        return self.latency_original_ms / self.latency_candidate_ms

    @property
    def worst(self) -> OutputComparison | None:
        """The float output closest to (or furthest past) its bound."""
        judged = [c for c in self.outputs if not c.exact and not c.problem]
        return max(judged, key=lambda c: c.ratio, default=None)

    def summary(self) -> str:
        """One line: verified or not, the margin or the first outputs that differ, and the
        sizes it ran at where the model leaves one open."""
        runs = f"over {self.runs} run{'s' if self.runs != 1 else ''}"
        if self.sizes:
            runs += f" at {sizes_text(self.sizes)}"
        if self.skipped:
            count = len(self.skipped)
            runs += f" ({count} input set{'s' if count != 1 else ''} the original cannot run on "
            runs += "skipped)"
        failed = [c for c in self.outputs if not c.ok]
        shown = "; ".join(c.describe() for c in failed[:3])
        if len(failed) > 3:
            shown += f"; and {len(failed) - 3} more"
        if self.problem:
            return f"verification failed: {self.problem}" + (f"; {shown}" if shown else "")
        if failed:
            return f"verification failed {runs}: {shown}"
        count = len(self.outputs)
        outputs = f"{count} output{'s' if count != 1 else ''}"
        max_abs = max((c.max_abs for c in self.outputs), default=0.0)
        worst = self.worst
        if worst is None:
            text = f"verified: {outputs} exactly equal {runs}"
        elif max_abs == 0:
            text = f"verified: {outputs} (max abs 0: identical) {runs}"
        elif worst.allowed is None:
            text = (
                f"verified: {outputs} within the given tolerance (max abs {max_abs:.1e}, "
                f"atol {worst.atol:.1e}, rtol {worst.rtol:.1e}; at worst "
                f"{_times(worst.ratio)} the original's own {worst.dtype} noise) {runs}"
            )
        else:
            text = (
                f"verified: {outputs} (max abs {max_abs:.1e}, at worst {_times(worst.ratio)} "
                f"the original's own {worst.dtype} noise, allowed {_times(worst.allowed)}) "
                f"{runs}"
            )
        if self.latency_original_ms is not None and self.latency_candidate_ms is not None:
            text += (
                f"; median latency {self.latency_original_ms:.3g} ms → "
                f"{self.latency_candidate_ms:.3g} ms ({self.speedup:.2f}x)"
            )
        return text
