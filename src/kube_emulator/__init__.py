"""A Kubernetes API server emulator for tests and for local mode. It knows nothing about Flink, and the operator never imports it."""
