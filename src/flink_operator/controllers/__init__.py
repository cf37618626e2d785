"""Controllers for FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot: observe, validate, decide, act, record."""
