"""The harness: targets, the protocol client, page objects and the pytest plugin."""

__version__ = "0.1.0"
