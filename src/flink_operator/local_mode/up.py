"""`local up` in the foreground: start the stack, show progress, stop everything on SIGINT/SIGTERM.

Exit codes: 0 after a requested stop, 1 when a part failed (start-up, or the emulator died while running),
2 for bad options or configuration. The operator's log goes to ``<state>/logs/operator.log`` (also to the
terminal with `verbose`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from flink_operator.config import ConfigError
from flink_operator.local_mode.display import Display
from flink_operator.local_mode.instance import AlreadyRunning
from flink_operator.local_mode.settings import LocalOptions
from flink_operator.local_mode.stack import LocalStack, StackError

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def operator_logging(log_file: Path, *, verbose: bool) -> Iterator[None]:
    """Send the process's logs to `log_file` (and stderr when verbose) while the stack runs."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.FileHandler(log_file, encoding="utf-8")]
    if verbose:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    # Per-request logs of the HTTP clients drown everything else.
    for noisy in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(previous)


Session = Callable[[LocalStack, asyncio.Event], Awaitable[int]]


async def _serve_until_stopped(stack: LocalStack, stop: asyncio.Event) -> int:
    display = stack.display
    display.info("")
    display.info("Local mode is up. Try:")
    display.info(f"  kubectl --kubeconfig {stack.kubeconfig} apply -f examples/basic-flink2.yaml")
    display.info(f"  kubectl --kubeconfig {stack.kubeconfig} get flinkdeployments -w")
    display.info(f"  flink-operator local status --state-dir {stack.paths.root}")
    display.info("Progress of every FlinkDeployment and FlinkSessionJob shows here. Ctrl-C stops everything.")
    display.info("")
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if not stack.emulator_alive():
            display.error(f"the Kubernetes API emulator stopped; see {stack.paths.emulator_log}")
            return 1
    return 0


async def run_stack(
    options: LocalOptions,
    display: Display,
    session: Session = _serve_until_stopped,
    *,
    detached: bool = False,
    require_counter_job: bool = False,
) -> int:
    """Start the stack, run `session` until it returns (or a signal arrives), then shut down."""
    stack = LocalStack(options, display, detached=detached, require_counter_job=require_counter_job)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            # Leave at once; whatever still runs is adopted by the next `local up` or stopped by `local down`.
            display.info("stopping at once")
            os._exit(130)
        display.info("stopping (press again to leave at once) ...")
        stop.set()
        if starting and current is not None:
            current.cancel()

    starting = True
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    code = 1
    try:
        try:
            await stack.start()
        except (StackError, AlreadyRunning, ConfigError, OSError) as error:
            display.error(str(error))
            return 2 if isinstance(error, (ConfigError, AlreadyRunning)) else 1
        except Exception as error:
            # E.g. a plugin that cannot be loaded, or an API server that refuses the CRDs: name it and stop.
            logging.getLogger(__name__).exception("local mode could not start")
            display.error(f"{type(error).__name__}: {error} (details in {stack.paths.operator_log})")
            return 1
        starting = False
        code = await session(stack, stop)
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        code = 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await asyncio.shield(stack.shutdown())
    return code


def run_up(options: LocalOptions, display: Display, *, detached: bool = False, verbose: bool = False) -> int:
    with operator_logging(options.paths.operator_log, verbose=verbose):
        return asyncio.run(run_stack(options, display, detached=detached))
