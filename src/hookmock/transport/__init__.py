"""hookmock.transport (under construction)."""
