"""Typed Flink REST responses (pydantic), one module per area; each reads both the 1.20 and the 2.x shape."""
