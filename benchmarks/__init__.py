"""Benchmarks of the harness: suite speed-up on several workers, the harness's overhead per
browser and per protocol scenario against bare scripts, the bundled server's login throughput
against its password-hashing limit, a run's peak memory, and the concurrent-replay race (one
second factor sent twice at once, round after round, on two servers sharing a database).

Run ``python -m benchmarks --help``; each figure is printed as it is measured, beside its
target, and ``benchmarks/RESULTS.md`` gets the latest figures with the machine's description.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks ``argv`` asks for (``python -m benchmarks``'s arguments); exit status."""
    from benchmarks.runner import main as run

    return run(argv)


__all__ = ["main"]
