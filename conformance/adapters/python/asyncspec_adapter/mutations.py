"""Deliberate alterations of asyncio, to prove the oracle finds what is wrong.

Each mutation makes the runtime break one documented rule:
  gather-cancels-siblings: gather() cancels the other children when one raises, as the
      seed 001 guide describes (CPython documents that they keep running);
  cancel-drops-message: Task.cancel(msg) forgets msg, so awaiters get CancelledError().
And one that breaks the adapter rather than the runtime, to prove it is reported as
the adapter's failure:
  loopback-never-delivers: socket delivery's peer never sees its bytes arrive.
"""

import asyncio

from . import loops


def gather_cancels_siblings():
    original = asyncio.gather

    def gather(*aws, return_exceptions=False):
        outer = original(*aws, return_exceptions=return_exceptions)
        if not return_exceptions:
            children = list(getattr(outer, "_children", []))

            def on_done(f):
                if not f.cancelled() and f.exception() is not None:
                    for c in children:
                        if not c.done():
                            c.cancel()

            for c in children:
                c.add_done_callback(on_done)
        return outer

    asyncio.gather = gather


def cancel_drops_message():
    def cancel(self, msg=None):
        return asyncio.Task.cancel(self)

    loops.DeterministicTask.cancel = cancel


def loopback_never_delivers():
    from . import sockets

    sockets._fionread = lambda sock: -1
    sockets.DELIVERY_TIMEOUT_S = 0.2


MUTATIONS = {
    "gather-cancels-siblings": gather_cancels_siblings,
    "cancel-drops-message": cancel_drops_message,
    "loopback-never-delivers": loopback_never_delivers,
}
