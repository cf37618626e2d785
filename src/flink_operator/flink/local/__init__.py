"""The local runtime: real Flink JobManager and TaskManager processes on 127.0.0.1."""
