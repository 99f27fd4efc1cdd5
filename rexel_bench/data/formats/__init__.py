"""Readers and writers, one module per file format, each with ``parse(raw, index)`` and ``dump(doc)``."""
