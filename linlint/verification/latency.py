"""Timing two models: the median latency of each in onnxruntime, with its default
optimizations, the runs of the two interleaved so that both see the same machine."""

from __future__ import annotations

import statistics
import time

from linlint.verification.sessions import Feeds, PreparedModel, feeds_for, open_session, run_model

_BENCH_WARMUP = 3
_BENCH_MIN_RUNS = 20
_BENCH_MAX_RUNS = 1000
_BENCH_MIN_SECONDS = 0.5


def median_latencies(
    original: PreparedModel, candidate: PreparedModel, feeds: Feeds
) -> tuple[float, float]:
    """Median latency (ms) of each model with onnxruntime's default optimizations, interleaved."""
    sessions = [
        open_session(original, level="all", spin=True),
        open_session(candidate, level="all", spin=True),
    ]
    prepared = [original, candidate]
    inputs = [feeds_for(s, feeds) for s in sessions]
    for _ in range(_BENCH_WARMUP):
        for session, feed, model in zip(sessions, inputs, prepared, strict=True):
            run_model(session, feed, model)
    times: list[list[float]] = [[], []]
    started = time.perf_counter()
    while len(times[0]) < _BENCH_MAX_RUNS and (
        len(times[0]) < _BENCH_MIN_RUNS or time.perf_counter() - started < _BENCH_MIN_SECONDS
    ):
        for index in (0, 1):
            tick = time.perf_counter()
            run_model(sessions[index], inputs[index], prepared[index])
            times[index].append(time.perf_counter() - tick)
    return statistics.median(times[0]) * 1e3, statistics.median(times[1]) * 1e3
