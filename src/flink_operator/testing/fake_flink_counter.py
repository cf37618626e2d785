"""The state of a fake job: the example counter job's per-key counts, kept in snapshots, and its gauges.

While the tasks run, records arrive at the job's rate and go to ``keys`` keys round robin; the total is the
state that checkpoints and savepoints capture and restores bring back. The gauges are computed as the
example job reports them (``counter.firstCount``/``counter.maxCount`` per subtask), from the total at
the last (re)start and the total now. Pure: time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Counter"]


@dataclass
class Counter:
    value: float = 0.0  # the total when counting last stopped (or was restored)
    at_start: float = 0.0  # the total when the tasks last started
    since: float | None = None  # when counting (re)started; None while the tasks do not run

    def start(self, now: float) -> None:
        if self.since is None:
            self.since = now
            self.at_start = self.value

    def stop(self, now: float, rate: float) -> None:
        if self.since is not None:
            self.value += (now - self.since) * rate
            self.since = None

    def reset(self, total: float) -> None:
        """Restore the total from a snapshot (counting stays stopped until :meth:`start`)."""
        self.value = float(total)
        self.since = None

    def current(self, now: float, rate: float) -> int:
        extra = (now - self.since) * rate if self.since is not None else 0.0
        return int(self.value + extra)

    def gauges(self, now: float, rate: float, keys: int, subtasks: int) -> list[tuple[int, int]]:
        """(firstCount, maxCount) per subtask.

        Key ``k`` lives on subtask ``k % subtasks``. A subtask that owns no key, or has processed nothing
        since the tasks started, reports (0, 0), as the real gauges do.
        """

        def per_key(total: int, key: int) -> int:
            return total // keys + (1 if key < total % keys else 0)

        at_start = int(self.at_start)
        total = self.current(now, rate) if self.since is not None else at_start
        gauges = []
        for subtask in range(subtasks):
            owned = [k for k in range(keys) if k % subtasks == subtask]
            processed = [k for k in owned if per_key(total, k) > per_key(at_start, k)]
            if not processed:
                gauges.append((0, 0))
                continue
            gauges.append((per_key(at_start, processed[0]) + 1, max(per_key(total, k) for k in processed)))
        return gauges
