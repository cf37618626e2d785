"""Controllers for FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot.

Each observes, validates, decides, acts and records; `common` holds what all of them share.
"""
