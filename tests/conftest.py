"""Fixtures shared by every test tier."""

pytest_plugins = ["kube_emulator.pytest_plugin"]
