"""The flag-evaluation benchmark runs and renders its section (``bench/flags.py``)."""

from __future__ import annotations

from bench import flags as flag_bench


def test_the_flag_benchmark_times_every_layer_and_renders_its_section() -> None:
    rows = flag_bench.run(300)
    assert len(rows) == 5 and all(0 < p50 <= p99 for _, p50, p99 in rows)
    text = flag_bench.section(rows, 300)
    assert text.startswith(flag_bench.TITLE) and text.count("\n| ") == 6
