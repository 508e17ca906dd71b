"""Wires the harness into pytest for this repository's scenarios and tests."""

pytest_plugins = ["harness.plugin", "pytester"]
