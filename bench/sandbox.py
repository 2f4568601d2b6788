"""What a workflow not in the worker's cache costs the worker: CPU to replay its history, under three runners.

    .venv/bin/python bench/sandbox.py [--quick] [-n N]

A workflow task for an application the worker does not hold in its cache (after an eviction, a restart, or for
each reminder of a backlog larger than the cache) replays the whole history first; the first task of every
application builds its sandbox the same way. This replays the saved histories of an issued citizenship and an
issued warish (tests/replay/histories, the lean process) with Temporal's Replayer, N times each, under:
- `sandbox`: the SDK's default sandbox (each workflow imports workflows/application.py and what it imports anew);
- `worker`: the sandbox with sonod's deterministic modules and pydantic passed through, as `sonod worker` runs
  (`workers.main.PASSED_THROUGH`);
- `unsandboxed`: no sandbox (a floor; sonod does not run so).

CPU is this process's user + system time (`resource.getrusage`) over the replays, divided by the workflows
replayed; the runners take turns for three rounds, so that a busy neighbour weighs on all of them alike. Prints a
table and one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from tests.replay.record import saved
from tests.replay.test_replay import dev_converter, history
from workers.main import PASSED_THROUGH
from workflows.application import CertificateApplication

RUNNERS = {
    "sandbox": SandboxedWorkflowRunner(),
    "worker": SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(
        *PASSED_THROUGH)),
    "unsandboxed": UnsandboxedWorkflowRunner(),
}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def replay_cpu_ms(runner, histories: list, n: int) -> float:
    """CPU milliseconds per workflow replayed."""
    replayer = Replayer(workflows=[CertificateApplication], data_converter=dev_converter(), workflow_runner=runner)

    async def each():
        for _ in range(n):
            for h in histories:
                yield h

    started = cpu_s()
    async with replayer.workflow_replay_iterator(each()) as replays:
        async for replayed in replays:
            assert replayed.replay_failure is None, replayed.replay_failure
    return (cpu_s() - started) * 1000 / (n * len(histories))


async def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=None, help="replays of each history a round")
    args = parser.parse_args(argv)
    n = args.n or (10 if args.quick else 40)
    histories = [history(path) for name in ("issued_citizenship", "issued_warish") for path in saved(name)]
    events = sum(len(h.events) for h in histories)
    await replay_cpu_ms(RUNNERS["worker"], histories, 2)  # warm-up: imports, the codec's keys
    samples: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for _ in range(3):
        for name, runner in RUNNERS.items():
            samples[name].append(await replay_cpu_ms(runner, histories, n))
    result = {name: round(statistics.median(s), 2) for name, s in samples.items()}
    result |= {"rounds": samples, "replays_a_round": n * len(histories), "events_a_workflow": events / len(histories),
               "worker_over_sandbox": round(result["worker"] / result["sandbox"], 2)}
    print(f"replayed {n * len(histories)} workflows a round ({events / len(histories):.0f} events each on average), "
          "3 rounds, runners in turn; CPU a workflow (median of the rounds):")
    for name in RUNNERS:
        print(f"  {name:12} {result[name]:6.2f} ms   rounds: " + ", ".join(f"{x:.2f}" for x in samples[name]))
    print(f"  worker / sandbox: {result['worker_over_sandbox']}")
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))))
