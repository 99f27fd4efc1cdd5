"""Models: the common interface and registry, and REXEL."""
