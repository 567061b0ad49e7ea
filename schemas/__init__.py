"""JSON Schemas shipped with hookmock (installed as the ``hookmock.schemas`` package)."""
