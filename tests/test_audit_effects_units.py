"""Effect judgements (auditing/probes_*.py) against scripted receivers and probes."""
