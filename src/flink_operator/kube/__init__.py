"""Kubernetes-facing helpers: the client wrapper and the builders of the objects a Flink cluster needs."""
