"""Helpers shared by tests of several tiers (import as `tests.support.<module>`)."""
