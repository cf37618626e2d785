"""Jar files for tests against the fake Flink server: a real zip with a manifest and class entries."""

from __future__ import annotations

import io
import zipfile


def fake_jar(main_class: str | None = "demo.CounterJob", *extra_classes: str) -> bytes:
    """A jar whose manifest names ``main_class`` and which contains (empty) entries for the classes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as jar:
        manifest = "Manifest-Version: 1.0\n"
        if main_class:
            manifest += f"Main-Class: {main_class}\n"
        jar.writestr("META-INF/MANIFEST.MF", manifest)
        for name in (main_class, *extra_classes):
            if name:
                jar.writestr(name.replace(".", "/") + ".class", b"\xca\xfe\xba\xbe")
    return buffer.getvalue()
