"""hookmock.delivery (under construction)."""
