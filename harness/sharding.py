"""One run split across machines: ``--shard I/N`` keeps the I-th of N shares of the tests.

A test's share is fixed by its node id alone (a hash, not its place in the collection), so
every machine of a CI matrix computes the same split without talking to the others, a test
added or removed moves no other test, and the N shards together run every test exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_FORM = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """The ``index``-th (from 1) of ``count`` shares of a run."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: I must be from 1 to N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``I/N``, as ``--shard`` takes it.

        :raises ValueError: another form, or I outside 1 to N.
        """
        match = _FORM.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"a shard is I/N, such as 2/4, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    def holds(self, nodeid: str) -> bool:
        """Whether the test with this node id is in this shard."""
        digest = hashlib.sha256(nodeid.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1
