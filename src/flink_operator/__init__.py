"""A Kubernetes operator for Apache Flink: FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot resources
(group flink.apache.org, version v1beta1), reconciled against native, standalone or local Flink runtimes.

Plugin authors import only `flink_operator.plugins` and the resource models in `flink_operator.api`; every
other module is internal and may change between releases."""
