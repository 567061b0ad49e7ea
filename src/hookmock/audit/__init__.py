"""hookmock.audit (under construction)."""
