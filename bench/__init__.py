"""Benchmarks of render_sdk's local engine, side by side with Celery + Redis.

Run ``python bench/run.py`` (or ``nox -s bench``); see docs/benchmarks.md.
"""
