"""Neptune graph blueprint (docs/neptune-graph.md): `stack.py` composes `cluster.py`,
`staging.py`, `bulk_loader.py` and `tools.py`."""
