"""rexel-bench: train, run, score and compare document-level closed information extraction systems.

The public API (the functions the command line calls) — see ``docs/python.md``::

    import rexel_bench as rb
    report = rb.compare("docred-ie:dev", {"a": "a.jsonl", "b": "b.jsonl"})
    report.to_pandas()
"""

__version__ = "0.1.0"

__all__ = ["Report", "__version__", "compare", "load", "load_model", "readable", "run", "score", "score_each"]


def __getattr__(name: str):  # the API imports pandas and torch-free modules lazily: `import rexel_bench` stays cheap
    if name in ("Report", "compare", "load", "load_model", "readable", "run", "score", "score_each"):
        from rexel_bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'rexel_bench' has no attribute {name!r}")
