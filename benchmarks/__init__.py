"""Reproducible speed and memory measurements of the engine, the models and the app.

``python -m benchmarks [--quick] [--only NAME ...] [--out docs/benchmarks.md]``
runs one module per measurement (see :data:`benchmarks.suite.SECTIONS`) and
writes one Markdown report. Every comparison is a ratio of two numbers taken
in the same run; timings are medians over repeats after a warm-up.
"""
