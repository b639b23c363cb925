"""PIC benchmarks (``make bench``): figures printed and recorded in ``docs/benchmarks.md``."""
