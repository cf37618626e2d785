"""Shared parts of the Kubernetes runtimes (`flink.native`, `flink.standalone`): settings, the cluster's
Kubernetes objects, and the job operations that go through the Flink REST API."""
