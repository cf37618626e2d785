"""The `flink-operator` command line."""
