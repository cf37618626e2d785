"""Resource models (pydantic v2) for the flink.apache.org/v1beta1 kinds, and the CRD manifests generated from them."""
