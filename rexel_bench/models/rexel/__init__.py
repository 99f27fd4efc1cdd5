"""REXEL: one encoder pass, five chained heads (Bouziani et al., NAACL 2024)."""
