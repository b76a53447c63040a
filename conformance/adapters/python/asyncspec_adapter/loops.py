"""Event loops under a virtual clock.

The clock is a float that only the selector moves: when the loop would block for
`timeout` seconds, the virtual time advances by exactly that much (the same float
operation the model does), and no real time passes. A block with nothing to wait for is a
deadlock; passing the horizon is a limit. Both end the run with a `limit` event.

Task names follow the model's rule: the name given, else `<coroutine>-<n>` (n counts the
tasks created so far, main being 1; the first task is `main`), and a reused name gets
`#k`.
"""

import asyncio
import logging
import os
import selectors
import signal

_creation = {}
_counter = [0]


def creation_index(f):
    return _creation.get(id(f), 1 << 62)


def _note_created(obj):
    _counter[0] += 1
    _creation[id(obj)] = _counter[0]


class VirtualSelector(selectors.BaseSelector):
    """A selector that never waits: it advances the loop's virtual clock instead."""

    def __init__(self, interp, horizon):
        self._keys = {}
        self._interp = interp
        self._horizon = horizon
        self.loop = None

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys.pop(fd)

    def select(self, timeout=None):
        from .interp import Limit

        interp = self._interp
        if interp.stopped:
            raise Limit("stopped")
        if interp.network is not None:
            # Socket delivery: the readers' sockets are real; what they hold is
            # returned at once, before any virtual time passes.
            from .sockets import poll

            ready = poll(self._keys, interp.network.fds())
            if ready:
                return ready
        if timeout is None:
            interp.rec("limit", what="deadlock: nothing is ready and no timer is set")
            interp.stopped = True
            raise Limit("deadlock")
        if not self.loop._ready and self.loop._asyncspec_vt + timeout == self.loop._asyncspec_vt:
            # A turn that can run nothing: near 1e8 s `now + clock_resolution == now`,
            # so a due timer is never popped and the loop would turn for ever. Such
            # turns are bounded by steps_max, as the model bounds them.
            interp.idle_turns += 1
            if interp.idle_turns > interp.steps_max:
                interp.rec("limit", what=f"steps_max {interp.steps_max} reached: as many loop turns ran no callback")
                interp.stopped = True
                raise Limit("steps")
        self.loop._asyncspec_vt += timeout
        if self.loop._asyncspec_vt > self._horizon:
            from .interp import fmt_number

            interp.rec("limit", what=f"horizon {fmt_number(self._horizon)} s passed")
            interp.stopped = True
            raise Limit("horizon")
        return []

    def get_map(self):
        return self._keys

    def close(self):
        self._keys.clear()


def _uniquify(loop, base):
    uses = loop._asyncspec_names.get(base, 0) + 1
    loop._asyncspec_names[base] = uses
    return base if uses == 1 else f"{base}#{uses}"


class DeterministicTask(asyncio.Task):
    """A Task whose hash is its creation number instead of its address.

    CPython iterates sets of tasks (asyncio.all_tasks() at shutdown, TaskGroup._tasks)
    in hash order, and a task's default hash is its memory address, which depends on
    everything the process did before. With this hash the order depends only on the
    scenario, so a replay reproduces the run. Nothing else about the task changes.
    """

    def __init__(self, *args, **kwargs):
        # Set before Task.__init__, which registers the task in a weak set (hashing it).
        _counter[0] += 1
        self._asyncspec_seq = _counter[0]
        super().__init__(*args, **kwargs)

    def __hash__(self):
        return self._asyncspec_seq


# Messages name the class as the C type does: `'_asyncio.Task' object has no attribute
# ...` prints tp_name, while "Task exception was never retrieved" prints the part after
# the last dot (_PyType_Name). Both read as they do for a plain asyncio.Task.
DeterministicTask.__name__ = "_asyncio.Task"
DeterministicTask.__qualname__ = "Task"


def _task_factory(loop, coro, **kwargs):
    # Under the scenario's eager task factory the adapter's own factory stays in place
    # (it keeps task hashes deterministic) and asks for what eager_task_factory does.
    if getattr(loop, "_asyncspec_eager", False):
        kwargs["eager_start"] = True
    return DeterministicTask(coro, loop=loop, **kwargs)


def _raise_sigint():
    signal.raise_signal(signal.SIGINT)


class _Hooks:
    """What every virtual loop adds: naming, creation order, interrupts, reports."""

    def _asyncspec_init(self, interp, interrupts):
        self._asyncspec_interp = interp
        self._asyncspec_names = {}
        self._asyncspec_created = 0
        self._asyncspec_interrupts = interrupts
        interp.loop = self
        self.set_task_factory(_task_factory)

    def create_task(self, coro, *, name=None, context=None, **kwargs):
        if self._asyncspec_interp.setting_up:
            # The adapter's own set-up (socket delivery's connect): not the scenario's.
            return super().create_task(coro, name=name, context=context, **kwargs)
        self._asyncspec_created += 1
        first = self._asyncspec_created == 1
        desired = self._asyncspec_interp.desired_names.pop(id(coro), None)
        if name is None and desired is not None:
            base = desired
        elif name is None:
            qual = getattr(coro, "__qualname__", "Task")
            base = "main" if first and qual == "main" else f"{qual}-{self._asyncspec_created}"
        else:
            base = str(name)
        task = super().create_task(coro, name=_uniquify(self, base), context=context, **kwargs)
        _note_created(task)
        if first:
            self._asyncspec_interp.main_task = task
            for at in self._asyncspec_interrupts:
                self.call_at(at, _raise_sigint)
            self._asyncspec_interp.start_streams(self)
        return task

    def create_future(self):
        f = super().create_future()
        _note_created(f)
        return f

    def default_exception_handler(self, context):
        if self._asyncspec_interp.stopped:
            # After a limit nothing is recorded, and formatting the log line (reprs
            # of long task chains) is all the default handler would do.
            return
        self._asyncspec_interp.report(context, "default")
        # The default handler logs; the log goes nowhere (the asyncio logger does not
        # propagate while a scenario runs) but keep its behaviour.
        super().default_exception_handler(context)


class VirtualSelectorLoop(_Hooks, asyncio.SelectorEventLoop):
    """CPython's default loop on Linux, with a virtual clock."""

    def __init__(self, interp, horizon, interrupts):
        self._asyncspec_vt = 0.0
        selector = VirtualSelector(interp, horizon)
        super().__init__(selector)
        selector.loop = self
        self._asyncspec_init(interp, interrupts)

    def time(self):
        return self._asyncspec_vt

    def _asyncspec_block(self, seconds):
        self._asyncspec_vt += seconds

    def _asyncspec_time(self):
        return self._asyncspec_vt

    def _asyncspec_releaser(self):
        return lambda: None


class _NativeClock:
    """For loops whose clock and waits are native (uvloop, rloop): the preloaded
    virtual clock (vclock.c) moves time when the loop would wait, and a deadlock or a
    wait past the horizon makes an eventfd readable, which this reader turns into the
    run's `limit` event."""

    def _asyncspec_on_limit(self):
        interp = self._asyncspec_clock_interp
        if not interp.stopped:
            from .interp import fmt_number

            reason = self._asyncspec_clock.limit_reason()
            if reason == "horizon":
                interp.rec("limit", what=f"horizon {fmt_number(interp.horizon)} s passed")
            else:
                interp.rec("limit", what="deadlock: nothing is ready and no timer is set")
            interp.stopped = True
        # The eventfd stays readable, so every later wait returns at once and the
        # runner's shutdown cannot hang either.
        self.stop()

    def _asyncspec_block(self, seconds):
        self._asyncspec_clock.advance(seconds)

    def _asyncspec_time(self):
        """The loop's time() as it would read now, without calling it: uvloop's time()
        also refreshes libuv's cached time, which later timers are measured from, so
        recording must not call it. Both loops count whole units of the virtual clock:
        uvloop milliseconds (libuv's uv_now), rloop microseconds (its `_clock`)."""
        ns = self._asyncspec_clock.now_ns()
        if self._asyncspec_unit_ns == 1_000_000:
            return (ns // 1_000_000) / 1000
        return (ns // 1000) / 1_000_000

    def _asyncspec_releaser(self):
        """What to call after the run is recorded, when every event is stamped in
        virtual time. It holds no reference to the loop, which may be freed first."""
        fd, clock = self._asyncspec_limit_fd, self._asyncspec_clock

        def release():
            clock.stop()
            os.close(fd)

        return release


_rloop_default = []


def _observe_rloop_default_handler(loop, interp):
    """rloop's call_exception_handler never calls loop.default_exception_handler: it
    calls the module function rloop.exc._default_exception_handler (also for a custom
    handler that failed). Observe that function instead, as the hook does elsewhere."""
    import rloop.exc

    if not _rloop_default:
        _rloop_default.append(rloop.exc._default_exception_handler)
    original = _rloop_default[0]

    def default_exception_handler(context):
        if interp.stopped:
            return
        interp.report(context, "default")
        original(context)

    rloop.exc._default_exception_handler = default_exception_handler


def _native_loop(base, unit_ns, observe=None):
    class VirtualNativeLoop(_NativeClock, _Hooks, base):
        _asyncspec_unit_ns = unit_ns

        def __new__(cls, interp, horizon, interrupts):
            from . import vclock

            # The clock starts before the native loop is allocated: rloop takes its
            # epoch and libuv its first reading there. rloop's base takes no arguments.
            clock = vclock.clock()
            fd = os.eventfd(0)
            clock.start(horizon, fd)
            self = super().__new__(cls)
            self._asyncspec_clock = clock
            self._asyncspec_limit_fd = fd
            return self

        def __init__(self, interp, horizon, interrupts):
            super().__init__()
            self._asyncspec_clock_interp = interp
            self.add_reader(self._asyncspec_limit_fd, self._asyncspec_on_limit)
            self._asyncspec_init(interp, interrupts)
            if observe is not None:
                observe(self, interp)

    return VirtualNativeLoop


def _loop_class(kind):
    if kind == "uvloop":
        import uvloop

        return _native_loop(uvloop.Loop, 1_000_000)
    if kind == "rloop":
        import rloop

        return _native_loop(rloop.RLoop, 1000, _observe_rloop_default_handler)
    raise ValueError(f"unknown loop {kind!r} (asyncio, uvloop or rloop)")


def describe(kind):
    """`asyncio`, or the loop package and its version (`uvloop-0.23.0`)."""
    if kind == "asyncio":
        return "asyncio"
    from importlib.metadata import version

    return f"{kind}-{version(kind)}"


def reset_counters():
    """Creation numbers start again (after the adapter's own set-up)."""
    _creation.clear()
    _counter[0] = 0


def factory(kind, interp, horizon, interrupts):
    reset_counters()
    if kind == "asyncio":
        return lambda: VirtualSelectorLoop(interp, horizon, interrupts)
    cls = _loop_class(kind)
    return lambda: cls(interp, horizon, interrupts)


class SlowCallbackLog(logging.Handler):
    """Records debug mode's 'Executing ... took ... seconds' warnings as log events."""

    def __init__(self, interp):
        super().__init__(level=logging.DEBUG)
        self._interp = interp

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Executing "):
            self._interp.rec("log", level=record.levelname, message=msg)
