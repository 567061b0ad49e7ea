"""hookmock.scenarios (under construction)."""
