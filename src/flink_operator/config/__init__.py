"""Operator configuration: typed options, parsing of Flink-style values, layering and live reload."""
