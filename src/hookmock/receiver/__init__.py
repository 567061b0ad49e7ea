"""hookmock.receiver (under construction)."""
