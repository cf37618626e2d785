"""A small stateful PyFlink streaming job: counts records per key in keyed state, with checkpointing.

Run it through Flink's PythonDriver (``-py counter_job.py``). On a local cluster use the thread execution
mode (``python.execution-mode: thread``): the process mode starts Beam workers that listen on all
interfaces. Like the Java counter job, the counts continue after a restore from a savepoint.

Arguments (optional): --keys N (default 4), --printEvery N (default 50), --sleepMs N (per record, default 5).
"""

from __future__ import annotations

import argparse
import sys
import time

from pyflink.common import Types, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.number_seq import NumberSequenceSource
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor


class Counter(KeyedProcessFunction):  # type: ignore[misc]
    def __init__(self, print_every: int) -> None:
        self.print_every = print_every
        self.count = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value, ctx):  # type: ignore[no-untyped-def]
        current = (self.count.value() or 0) + 1
        self.count.update(current)
        if current % self.print_every == 0:
            yield f"key={ctx.get_current_key()} count={current}"


def _throttled(value: int, sleep_seconds: float) -> int:
    if sleep_seconds:
        time.sleep(sleep_seconds)
    return value


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--printEvery", type=int, default=50)
    parser.add_argument("--sleepMs", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    env = StreamExecutionEnvironment.get_execution_environment()
    keys = max(1, args.keys)
    sleep_seconds = max(0, args.sleepMs) / 1000.0
    (
        env.from_source(NumberSequenceSource(0, 2**62), WatermarkStrategy.no_watermarks(), "seq")
        .uid("seq")
        .map(lambda v: _throttled(v, sleep_seconds) % keys, output_type=Types.LONG())
        .key_by(lambda k: k, key_type=Types.LONG())
        .process(Counter(args.printEvery), output_type=Types.STRING())
        .name("counter")
        .uid("counter")
        .print()
    )
    env.execute("python-counter-job")


if __name__ == "__main__":
    main(sys.argv[1:])
