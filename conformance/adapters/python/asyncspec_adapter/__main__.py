"""The adapter process: scenarios in on stdin, traces out on stdout (JSON lines).

    python -m asyncspec_adapter [--loop asyncio|uvloop|rloop]

Each input line is {"id": ID, "scenario": {...}}. For each, the adapter prints one
{"id": ID, "event": {...}} line per event, then {"id": ID, "done": {...}}, or
{"id": ID, "error": "..."} when it cannot run the scenario. One process serves many
scenarios; the oracle restarts it if it crashes, hangs or prints anything else.
"""

import argparse
import json
import platform
import sys
import time
import traceback

from . import PROTOCOL
from . import loops
from . import mutations
from .interp import FRAMES_PER_AWAIT, Interp


def main(argv=None):
    ap = argparse.ArgumentParser(prog="asyncspec-adapter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop", "rloop"], help="event loop to run scenarios on")
    ap.add_argument(
        "--mutate",
        choices=sorted(mutations.MUTATIONS),
        help="deliberately alter the runtime (to prove the oracle catches it)",
    )
    args = ap.parse_args(argv)
    # A scenario's `await coro()` costs the interpreter FRAMES_PER_AWAIT Python frames
    # where the program it stands for costs one: give the interpreter that many times
    # the interpreter's default depth, so an await chain as deep as a plain program can
    # go (about 900 on 3.11-3.13) runs, instead of failing with the adapter's own
    # RecursionError at a quarter of that.
    sys.setrecursionlimit(FRAMES_PER_AWAIT * sys.getrecursionlimit() + 100)
    if args.loop != "asyncio":
        # uvloop and rloop keep time in native code: virtualise it under them.
        from . import vclock

        vclock.ensure_preloaded()
    if args.mutate:
        mutations.MUTATIONS[args.mutate]()
    out = sys.stdout
    # Anything the runtime prints must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    runtime = f"cpython-{platform.python_version()} {loops.describe(args.loop)}"
    if args.mutate:
        runtime += f" mutated:{args.mutate}"

    def send(obj):
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        out.flush()

    send({"hello": {"protocol": PROTOCOL, "adapter": "asyncspec-python", "runtime": runtime}})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            sid = req["id"]
            scenario = req["scenario"]
        except Exception as e:  # noqa: BLE001 - a bad request is reported, not fatal
            send({"id": None, "error": f"bad request: {e}"})
            continue
        started = time.perf_counter()
        try:
            events = Interp(scenario, args.loop, send).run()
        except Exception:  # noqa: BLE001 - the adapter's own failure (AdapterFault included), reported
            send({"id": sid, "error": traceback.format_exc(limit=5)})
            continue
        for ev in events:
            send({"id": sid, "event": ev})
        send({"id": sid, "done": {"elapsed_s": time.perf_counter() - started}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
