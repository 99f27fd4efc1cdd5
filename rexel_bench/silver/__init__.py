"""Silver annotation: the DocRED-IE builder (entity linking against the KB) and the annotation auditor."""
