"""hookmock.emulator (under construction)."""
