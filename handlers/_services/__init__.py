"""Domain logic without chat text, unit-tested directly."""
