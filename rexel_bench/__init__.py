"""rexel-bench: train, run, score and compare document-level closed information extraction systems."""

__version__ = "0.1.0"
