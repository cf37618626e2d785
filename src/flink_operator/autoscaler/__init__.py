"""The job autoscaler: metric collection, the pure scaling algorithm, and how decisions are applied."""
