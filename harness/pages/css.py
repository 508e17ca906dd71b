"""Text made safe for CSS selectors the page objects build."""

from __future__ import annotations


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string, for an attribute selector (``[data-label="…"]``):
    a label or name holding a quote or backslash cannot break out of it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
