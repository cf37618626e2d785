"""The Prometheus registry and the names of the operator metrics."""
