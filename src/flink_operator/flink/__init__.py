"""Talking to Flink: the REST client, the FlinkService interface and its runtimes
(native, standalone, local)."""
