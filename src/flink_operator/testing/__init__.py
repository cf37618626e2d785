"""Test doubles that behave like the real thing, for our tests and for plugin authors
(e.g. an honest fake Flink REST server)."""
