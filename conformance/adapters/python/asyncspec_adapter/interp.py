"""Run one asyncspec scenario on a real event loop and record its trace.

The scenario's statements are interpreted with real Python control flow (try/except/
finally, async with, await), real tasks and real cancellation, so exceptions flow as the
runtime makes them flow. Recording never adds a callback, a task or an await: it only
appends to a list, so scheduling is the runtime's own.

Events mirror the model's trace (model/src/core/trace.rs): start, exit, resume, call, raise,
catch, mark, report, warning, log, callback, finished, limit.
"""

import asyncio
import concurrent.futures
import builtins
import gc
import io
import logging
import math
import selectors
import signal
import sys
import warnings

from . import loops
from . import sync
from .sockets import AdapterFault, SocketNetwork


class BadAwaitable:
    """An awaitable whose __await__ yields something that is not a future."""

    def __await__(self):
        yield 42


def _handler_for(interp):
    """The scenario's custom exception handler, with the documented (loop, context)
    signature. It is called `handler` so that a loop calling it wrongly fails with the
    same message everywhere (rloop calls handler(context))."""

    def handler(loop, context):
        interp.custom_handler(context)

    handler.__qualname__ = "handler"
    return handler


class SimTransport(asyncio.Transport):
    """The simulation's transport under a StreamWriter (the model's rules, in
    model/src/asyncio/streams.rs): write() buffers, and is dropped once closing; above `high`
    buffered bytes the protocol is paused, at or below `low` resumed; the peer takes
    bytes at scheduled times; close() loses the connection with call_soon when the
    buffer is empty, else when the peer takes the last byte."""

    def __init__(self, high, low, loop):
        super().__init__()
        self.high, self.low, self.loop = high, low, loop
        self.buffered = 0
        self.closing = False
        self.lost = False
        self.paused = False
        self.protocol = None

    def get_extra_info(self, name, default=None):
        return default

    def is_closing(self):
        return self.closing

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def write(self, data):
        if self.closing or not data:
            return
        self.buffered += len(data)
        if self.buffered > self.high and not self.paused:
            self.paused = True
            self.protocol.pause_writing()

    def peer_takes(self, n, record):
        taken = min(n, self.buffered)
        self.buffered -= taken
        record(taken)
        if self.paused and self.buffered <= self.low:
            self.paused = False
            self.protocol.resume_writing()
        if self.closing and not self.lost and self.buffered == 0:
            self.lose(None)

    def close(self):
        if self.closing:
            return
        self.closing = True
        if self.buffered == 0:
            self.loop.call_soon(self.lose, None)

    def lose(self, exc):
        if self.lost:
            return
        self.lost = True
        self.closing = True
        self.protocol.connection_lost(exc)


class Limit(BaseException):
    """The run hit a limit (deadlock, horizon): stop and report it."""


def fmt_number(x):
    """A number as the trace's labels print it (model/src/core/value.rs `number_label`):
    an integral value below 1e16 in magnitude as an integer, anything else as Python's
    repr of the float (1e-07, 1e+16, inf)."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


def value_from_json(v):
    """A scenario value as the Python object it means: {"bytes": "..."} is bytes
    (Latin-1, one char per byte), {"float": "inf"|"-inf"|"nan"} a non-finite float,
    lists element by element; JSON numbers with a fraction are floats already."""
    if isinstance(v, dict):
        if set(v) == {"bytes"}:
            return v["bytes"].encode("latin-1")
        if set(v) == {"float"}:
            return float(v["float"])
        raise LookupError(f"not a scenario value: {v!r}")
    if isinstance(v, list):
        return [value_from_json(x) for x in v]
    return v


def show_value(v):
    """A value as the model's Display prints it."""
    if v is None:
        return "None"
    if v is True:
        return "True"
    if v is False:
        return "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return repr(bytes(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    if isinstance(v, BaseException):
        return show_exc(exc_view(v))
    return repr(v)


def show_exc(view):
    """An exception view as the model's ExcView Display prints it: args, the group's
    members, then the extra attributes sorted by name."""
    parts = [show_value(value_from_json(a)) for a in view["args"]]
    if view.get("group"):
        parts.append("[" + ", ".join(show_exc(g) for g in view["group"]) + "]")
    for k in sorted(view.get("attrs") or {}):
        parts.append(f"{k}={show_value(value_from_json(view['attrs'][k]))}")
    text = f"{view['class']}({', '.join(parts)})"
    if view.get("cause") is not None:
        text += f" from {show_exc(view['cause'])}"
    elif view.get("suppress_context"):
        text += " from None"
    if view.get("context") is not None:
        text += f" during {show_exc(view['context'])}"
    return text


def class_name(e):
    t = type(e)
    if t.__module__ in ("asyncio.exceptions", "asyncio.queues"):
        return "asyncio." + t.__name__
    if t.__module__ == "concurrent.futures._base":
        return "concurrent.futures." + t.__name__
    if t.__module__ == "io":
        return "io." + t.__name__
    return t.__name__


def value_json(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).decode("latin-1")}
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, (list, tuple, set)):
        return [value_json(x) for x in v]
    if isinstance(v, BaseException):
        return exc_view(v)
    return repr(v)


# Unqualified names the model takes as asyncio's classes (its ALIASES table).
_ASYNCIO_ALIASES = ("CancelledError", "InvalidStateError", "IncompleteReadError", "LimitOverrunError")

# Attributes beyond args that decide what a handler sees.
_EXC_ATTRS = {
    "IncompleteReadError": ("partial", "expected"),
    "LimitOverrunError": ("consumed",),
}


# How deep a view follows __cause__, __context__ and group members (the model's
# VIEW_DEPTH_MAX, model/src/core/exception.rs): deeper links are left out on both sides.
VIEW_DEPTH_MAX = 3


def exc_view(e, depth=VIEW_DEPTH_MAX):
    if isinstance(e, BaseExceptionGroup):
        members = [exc_view(x, depth - 1) for x in e.exceptions] if depth > 0 else []
        view = {"class": class_name(e), "args": [e.message], "group": members}
    else:
        view = {"class": class_name(e), "args": [value_json(a) for a in e.args]}
        names = _EXC_ATTRS.get(type(e).__name__, ())
        if names:
            view["attrs"] = {n: value_json(getattr(e, n)) for n in names}
    if depth > 0:
        if e.__cause__ is not None:
            view["cause"] = exc_view(e.__cause__, depth - 1)
        # __context__ is left out (the model's ExcView rule): CPython chains an
        # exception thrown into a coroutine at each coroutine frame that is handling
        # one, and this adapter runs a scenario coroutine as several Python frames.
    if e.__suppress_context__:
        view["suppress_context"] = True
    return view


# Python frames one scenario-level `await coro()` nests in the interpreter: the
# coroutine's body, exec_block, exec_stmt, await_expr.
FRAMES_PER_AWAIT = 4


class Interp:
    """One scenario run."""

    def __init__(self, scenario, loop_kind, emit):
        self.s = scenario
        self.loop_kind = loop_kind
        self.emit_line = emit
        self.events = []
        self.vars = {}
        self.steps = 0
        self.idle_turns = 0
        self.handler_mode = "default"
        self.in_gc = False
        self.stopped = False
        self.fut_names = {}
        self.desired_names = {}
        # `asyncio.X` names are looked up in the runtime's own asyncio module, so a
        # class fact (asyncio.TimeoutError is TimeoutError) is the runtime's, not ours.
        self.classes = {"CancelledError": asyncio.CancelledError}
        for name, base in (scenario.get("exceptions") or {}).items():
            self.classes[name] = type(name, (self.cls(base),), {})
        self.loop = None
        self.end_time = 0.0
        self.readers = {}
        self.writers = {}
        # Socket delivery's connections (None: in memory).
        self.network = SocketNetwork(self) if scenario.get("delivery") == "socket" else None
        self.setting_up = False
        # Set when the adapter itself failed mid-run (a loopback that did not deliver):
        # the run is then an adapter error, whatever the trace says.
        self.fault = None

    # ----- recording ----------------------------------------------------------------

    def rec(self, kind, _loop=False, **fields):
        """Record an event, in the running task unless `_loop` (the loop's own)."""
        if self.stopped or (self.in_gc and kind not in ("report", "warning")):
            return
        task = None
        try:
            t = None if _loop else asyncio.current_task()
            task = t.get_name() if t is not None else None
        except RuntimeError:
            task = None
        ev = {"time": self.loop._asyncspec_time() if self.loop else self.end_time}
        if task is not None:
            ev["task"] = task
        ev["event"] = kind
        ev.update(fields)
        self.events.append(ev)

    def outcome(self, ok, v):
        if ok:
            return {"kind": "value", "value": value_json(v)}
        return {"kind": "raised", "exc": exc_view(v)}

    # ----- names and objects --------------------------------------------------------

    def cls(self, name):
        if name in self.classes:
            return self.classes[name]
        if name.startswith("asyncio."):
            c = getattr(asyncio, name[len("asyncio."):], None)
            if isinstance(c, type) and issubclass(c, BaseException):
                return c
        if name.startswith("concurrent.futures."):
            c = getattr(concurrent.futures, name[len("concurrent.futures."):], None)
            if isinstance(c, type) and issubclass(c, BaseException):
                return c
        c = getattr(builtins, name, None)
        if isinstance(c, type) and issubclass(c, BaseException):
            return c
        # The model's aliases (model/src/core/exception.rs ALIASES): an unqualified
        # asyncio class name (IncompleteReadError) means asyncio's.
        if name in _ASYNCIO_ALIASES:
            return self.cls("asyncio." + name)
        raise LookupError(f"unknown exception class {name!r}")

    def lookup(self, name):
        """The object a scenario variable holds, whatever it is (statements then do
        what Python does with it); `main` is the main task unless rebound."""
        if name not in self.vars:
            if name == "main" and self.main_task is not None:
                return self.main_task
            raise NameError(f"name '{name}' is not defined")
        return self.vars[name]

    def blocks_for_ever(self, call):
        """`cf.result()` / `cf.exception()` on a pending concurrent future from the
        loop's thread: the program would hang. Record the deadlock and stop (the model
        ends the run the same way)."""
        self.rec("limit", _loop=True, what=f"deadlock: {call} blocks the loop's thread on a pending concurrent.futures.Future that nothing can finish")
        self.stopped = True
        raise Limit("deadlock")

    def coroutine_body(self, name):
        if name == "main":
            return self.s["main"]
        return self.s["coroutines"][name]

    def make_coro(self, name):
        """A coroutine object whose __qualname__ is the scenario's coroutine name. It
        records start/exit only when it is a task's own coroutine."""
        cell = {}
        interp = self

        async def body():
            task = asyncio.current_task()
            root = task is not None and task.get_coro() is cell.get("co")
            cell.clear()
            if root:
                interp.rec("start")
            try:
                r = await interp.exec_block(interp.coroutine_body(name))
            except BaseException as e:
                if root and not isinstance(e, GeneratorExit):
                    interp.rec("exit", outcome=interp.outcome(False, e))
                raise
            v = r[1] if r is not None else None
            if root:
                interp.rec("exit", outcome=interp.outcome(True, v))
            return v

        body.__name__ = name
        body.__qualname__ = name
        co = body()
        cell["co"] = co
        return co

    def awaitable(self, target):
        if "coro" in target:
            return self.make_coro(target["coro"])
        return self.lookup(target["var"])

    @staticmethod
    def label(target):
        return f"{target['coro']}()" if "coro" in target else target["var"]

    # ----- statements ----------------------------------------------------------------

    async def exec_block(self, stmts):
        for st in stmts:
            r = await self.exec_stmt(st)
            if r is not None:
                return r
        return None

    async def await_expr(self, label, var, awaitable_factory):
        # The operand is evaluated first, as `await expr` does: an error there (an
        # unbound variable) is raised before anything is awaited, and no resume event
        # is recorded.
        aw = awaitable_factory()
        try:
            v = await aw
        except BaseException as e:
            self.rec("resume", awaited=label, outcome=self.outcome(False, e))
            raise
        self.rec("resume", awaited=label, outcome=self.outcome(True, v))
        if var:
            self.vars[var] = v
        return None

    def call(self, text, fn):
        try:
            v = fn()
        except BaseException as e:
            self.rec("call", call=text, outcome=self.outcome(False, e))
            raise
        self.rec("call", call=text, outcome=self.outcome(True, v))
        return v

    async def exec_stmt(self, st):
        op = st["op"]
        if self.stopped:
            # The run is over (a limit was recorded): no statement runs any more, so
            # even a scenario that spawns tasks forever lets the loop fall idle and stop
            # (uvloop and rloop have no selector hook to break out of the loop).
            raise Limit("stopped")
        self.steps += 1
        if self.steps > self.steps_max:
            # The model counts callbacks too and stops sooner; this only keeps a
            # runaway scenario from hanging the adapter (the oracle calls such runs
            # inconclusive).
            self.rec("limit", what=f"steps_max {self.steps_max} reached")
            self.stopped = True
            raise Limit("steps")
        loop = asyncio.get_running_loop()
        if op in sync.SYNC_OPS:
            return await sync.exec_stmt(self, st)
        if op == "sleep":
            d = value_from_json(st["delay"])
            res = value_from_json(st.get("result"))
            return await self.await_expr(f"asyncio.sleep({fmt_number(d)})", st.get("var"), lambda: asyncio.sleep(d, res))
        if op == "checkpoint":
            return await self.await_expr("asyncio.sleep(0)", None, lambda: asyncio.sleep(0))
        if op == "create_task":
            name = st.get("name") or st.get("var")
            t = loop.create_task(self.make_coro(st["coro"]), name=name)
            if st.get("var"):
                self.vars[st["var"]] = t
            return None
        if op == "await":
            tgt = st["target"]
            return await self.await_expr(self.label(tgt), st.get("var"), lambda: self.awaitable(tgt))
        # A method call on a variable: the name is looked up first (NameError, no
        # event), then the method inside the recorded call (AttributeError recorded).
        if op == "cancel":
            f = self.lookup(st["target"])
            msg = st.get("msg")
            text = f"{st['target']}.cancel({show_value(msg)})" if msg is not None else f"{st['target']}.cancel()"
            # concurrent.futures.Future.cancel() takes no message: a TypeError.
            self.call(text, (lambda: f.cancel(msg)) if msg is not None else (lambda: f.cancel()))
            return None
        if op == "cancelling":
            t = self.lookup(st["task"])
            self.call(f"{st['task']}.cancelling()", lambda: t.cancelling())
            return None
        if op == "uncancel":
            t = self.lookup(st["task"])
            self.call(f"{st['task']}.uncancel()", lambda: t.uncancel())
            return None
        if op == "query":
            f = self.lookup(st["target"])
            what = st["what"]
            self.call(f"{st['target']}.{what}()", lambda: getattr(f, what)())
            return None
        if op in ("result", "exception"):
            f = self.lookup(st["target"])
            text = f"{st['target']}.{op}()"
            if isinstance(f, concurrent.futures.Future) and not f.done():
                self.blocks_for_ever(text)
            v = self.call(text, lambda: getattr(f, op)())
            if op == "result" and st.get("var"):
                self.vars[st["var"]] = v
            return None
        if op == "raise":
            if st.get("var") is not None:
                e = self.lookup(st["var"])
            else:
                e = self.cls(st["class"])(*value_from_json(st.get("args", [])))
            if "from" not in st:
                if isinstance(e, BaseException):
                    self.rec("raise", exc=exc_view(e))
                raise e
            cause = st["from"]
            if cause == "none":
                cause = None
            elif "var" in cause:
                cause = self.lookup(cause["var"])
            else:
                cause = self.cls(cause["class"])(*value_from_json(cause.get("args", [])))
            # A cause that is no exception makes the raise statement itself fail.
            if isinstance(e, BaseException) and (cause is None or isinstance(cause, BaseException)):
                self.rec("raise", exc=exc_view(e))
            raise e from cause
        if op == "reraise":
            # Python's own notion of the exception being handled: it follows the
            # await chain within a task and is empty in a fresh task.
            e = sys.exception()
            if e is None:
                e = RuntimeError("No active exception to reraise")
            self.rec("raise", exc=exc_view(e))
            raise e
        if op == "return":
            if st.get("var") is not None:
                return ("return", self.lookup(st["var"]))
            return ("return", value_from_json(st.get("value")))
        if op == "assign":
            v = st["value"]
            if isinstance(v, dict) and "class" in v:
                # An exception instance: `C(*args)`.
                v = self.cls(v["class"])(*value_from_json(v.get("args", [])))
            else:
                v = value_from_json(v)
            self.vars[st["var"]] = v
            return None
        if op == "try":
            return await self.exec_try(st)
        if op == "gather":
            items = st["items"]
            rexc = st.get("return_exceptions", False)
            labels = ", ".join(self.label(t) for t in items)
            label = f"asyncio.gather({labels}, return_exceptions=True)" if rexc else f"asyncio.gather({labels})"
            def make_gather():
                g = asyncio.gather(*[self.awaitable(t) for t in items], return_exceptions=rexc)
                if st.get("future"):
                    self.vars[st["future"]] = g
                    self.fut_names[id(g)] = st["future"]
                return g

            if st.get("await", True) is False:
                # `g = asyncio.gather(...)`, held for later.
                make_gather()
                return None
            return await self.await_expr(label, st.get("var"), make_gather)
        if op == "wait_for":
            tgt = st["target"]
            to = value_from_json(st.get("timeout"))
            label = f"asyncio.wait_for({self.label(tgt)}, {fmt_number(to) if to is not None else 'None'})"
            return await self.await_expr(label, st.get("var"), lambda: asyncio.wait_for(self.awaitable(tgt), to))
        if op == "timeout":
            if st.get("at") is not None:
                cm = asyncio.timeout_at(value_from_json(st["at"]))
            else:
                d = value_from_json(st.get("delay"))
                cm = asyncio.timeout(d)
            async with cm as c:
                if st.get("var"):
                    self.vars[st["var"]] = c
                r = await self.exec_block(st["body"])
            return r
        if op == "reschedule":
            cm = self.lookup(st["cm"])
            d = value_from_json(st.get("delay"))
            arg = f"loop.time() + {fmt_number(d)}" if d is not None else "None"
            # The method is looked up before its argument (loop.time()) is evaluated.
            self.call(f"{st['cm']}.reschedule({arg})", lambda: cm.reschedule(loop.time() + d if d is not None else None))
            return None
        if op == "expired":
            cm = self.lookup(st["cm"])
            self.call(f"{st['cm']}.expired()", lambda: cm.expired())
            return None
        if op == "shield":
            tgt = st["target"]

            def make_shield():
                s = asyncio.shield(self.awaitable(tgt))
                if st.get("future"):
                    self.vars[st["future"]] = s
                    # A shield of a done future is that future: it keeps its name.
                    self.fut_names.setdefault(id(s), st["future"])
                return s

            if st.get("await", True) is False:
                make_shield()
                return None
            return await self.await_expr(f"asyncio.shield({self.label(tgt)})", st.get("var"), make_shield)
        if op == "when":
            cm = self.lookup(st["cm"])
            self.call(f"{st['cm']}.when()", lambda: cm.when())
            return None
        if op == "task_group":
            async with asyncio.TaskGroup() as tg:
                self.vars[st["var"]] = tg
                r = await self.exec_block(st["body"])
            return r
        if op == "group_task":
            tg = self.lookup(st["group"])
            text = f"{st['group']}.create_task({st['coro']}())"
            # `tg.create_task` is looked up before `coro()` is called.
            try:
                create_task = tg.create_task
            except BaseException as e:
                self.rec("call", call=text, outcome=self.outcome(False, e))
                raise
            co = self.make_coro(st["coro"])
            if st.get("var"):
                # 3.11/3.12 rename the task after loop.create_task (_set_task_name);
                # naming it in the loop hook keeps the model's uniquifying rule.
                self.desired_names[id(co)] = st["var"]
            try:
                t = create_task(co)
            except BaseException as e:
                del co
                self.rec("call", call=text, outcome=self.outcome(False, e))
                raise
            if st.get("var"):
                self.vars[st["var"]] = t
            return None
        if op == "wait":
            futs = [self.lookup(n) for n in st["items"]]
            futs += [self.make_coro(c) for c in st.get("coros", [])]
            listed = st["items"] + [f"{c}()" for c in st.get("coros", [])]
            to = value_from_json(st.get("timeout"))
            when = st.get("return_when", "ALL_COMPLETED")
            label = f"asyncio.wait([{', '.join(listed)}], timeout={fmt_number(to) if to is not None else 'None'}, return_when={when})"
            rw = getattr(asyncio, when)

            async def do_wait():
                done, pending = await asyncio.wait(futs, timeout=to, return_when=rw)
                order = lambda f: loops.creation_index(f)
                names = lambda fs: [self.name_of(f) for f in sorted(fs, key=order)]
                return [names(done), names(pending)]

            return await self.await_expr(label, None, do_wait)
        if op == "as_completed":
            futs = [self.lookup(n) for n in st["items"]]
            to = value_from_json(st.get("timeout"))
            label = f"as_completed([{', '.join(st['items'])}], timeout={fmt_number(to) if to is not None else 'None'})"
            for aw in asyncio.as_completed(futs, timeout=to):
                await self.await_expr(label, None, lambda aw=aw: aw)
            return None
        if op == "new_future":
            f = loop.create_future()
            self.fut_names[id(f)] = st["var"]
            self.vars[st["var"]] = f
            return None
        if op == "set_result":
            f = self.lookup(st["future"])
            v = value_from_json(st.get("value"))
            self.call(f"{st['future']}.set_result({show_value(v)})", lambda: f.set_result(v))
            return None
        if op == "set_exception":
            f = self.lookup(st["future"])
            e = self.cls(st["class"])(*value_from_json(st.get("args", [])))
            self.call(f"{st['future']}.set_exception({show_exc(exc_view(e))})", lambda: f.set_exception(e))
            return None
        if op == "add_done_callback":
            f = self.lookup(st["target"])
            spec = st["callback"]
            target = st["target"]
            if spec["kind"] == "record":
                def cb(fut, target=target):
                    if fut.cancelled():
                        out = {"kind": "raised", "exc": {"class": "asyncio.CancelledError", "args": []}}
                    elif fut.exception() is not None:
                        out = {"kind": "raised", "exc": exc_view(fut.exception())}
                    else:
                        out = {"kind": "value", "value": value_json(fut.result())}
                    self.rec("callback", target=target, outcome=out)
            else:
                klass = self.cls(spec["class"])
                args = value_from_json(spec.get("args", []))

                def cb(fut):
                    raise klass(*args)
            f.add_done_callback(cb)
            return None
        if op == "call_unawaited":
            self.make_coro(st["coro"])
            return None
        if op == "block":
            loop._asyncspec_block(st["seconds"])
            return None
        if op == "set_exception_handler":
            mode = st["handler"]
            if mode == "invalid":
                self.call("loop.set_exception_handler(42)", lambda: loop.set_exception_handler(42))
                return None
            self.handler_mode = mode
            loop.set_exception_handler(None if mode == "default" else _handler_for(self))
            return None
        if op in ("read", "readexactly", "readuntil", "readline"):
            name = st["reader"]
            r = self.readers[name]
            if op == "read":
                label, make = f"{name}.read({st['n']})", lambda: r.read(st["n"])
            elif op == "readexactly":
                label, make = f"{name}.readexactly({st['n']})", lambda: r.readexactly(st["n"])
            elif op == "readuntil":
                sep = st["separator"].encode("latin-1")
                label, make = f"{name}.readuntil({sep!r})", lambda: r.readuntil(sep)
            else:
                label, make = f"{name}.readline()", r.readline
            return await self.await_expr(label, st.get("var"), make)
        if op == "write":
            w = self.writers[st["stream"]]
            data = st["data"].encode("latin-1")
            self.call(f"{st['stream']}.write({data!r})", lambda: w.write(data))
            return None
        if op == "drain":
            w = self.writers[st["stream"]]
            return await self.await_expr(f"{st['stream']}.drain()", None, w.drain)
        if op == "close":
            w = self.writers[st["stream"]]
            self.call(f"{st['stream']}.close()", w.close)
            return None
        if op == "wait_closed":
            w = self.writers[st["stream"]]
            return await self.await_expr(f"{st['stream']}.wait_closed()", None, w.wait_closed)
        if op == "sendfile":
            w = self.writers[st["stream"]]
            data = st["data"].encode("latin-1")
            label = f"loop.sendfile({st['stream']}.transport, BytesIO({data!r}), fallback=False)"
            return await self.await_expr(
                label, None, lambda: asyncio.get_running_loop().sendfile(w.transport, io.BytesIO(data), fallback=False)
            )
        if op == "at_eof":
            r = self.readers[st["reader"]]
            self.call(f"{st['reader']}.at_eof()", r.at_eof)
            return None
        if op in ("call_soon", "call_later", "call_at"):
            body = st["callback"]

            def callback():
                # Synchronous statements (the scenario may not await here): their
                # coroutine finishes at its first send.
                co = self.exec_block(body)
                try:
                    co.send(None)
                except StopIteration:
                    return
                co.close()
                raise AdapterFault("a callback's statements suspended")

            if op == "call_soon":
                h = loop.call_soon(callback)
            elif op == "call_later":
                h = loop.call_later(value_from_json(st["delay"]), callback)
            else:
                h = loop.call_at(value_from_json(st["at"]), callback)
            if st.get("var"):
                self.vars[st["var"]] = h
            return None
        if op == "new_concurrent_future":
            self.vars[st["var"]] = concurrent.futures.Future()
            return None
        if op == "wrap_future":
            af = asyncio.wrap_future(self.lookup(st["cfuture"]))
            # An asyncio future is returned as it is, keeping the name it has.
            self.fut_names.setdefault(id(af), st["var"])
            self.vars[st["var"]] = af
            return None
        if op == "set_eager_task_factory":

            def set_eager():
                # The name is looked up as the program would: on 3.11 it is missing.
                asyncio.eager_task_factory  # noqa: B018
                loop._asyncspec_eager = True

            self.call("loop.set_task_factory(asyncio.eager_task_factory)", set_eager)
            return None
        if op == "call_exception_handler":
            loop.call_exception_handler({"message": st["message"]})
            return None
        if op == "nested_run":
            co = self.make_coro(st["coro"])
            try:
                self.call(f"asyncio.run({st['coro']}())", lambda: asyncio.run(co))
            finally:
                del co
            return None
        if op == "bad_yield":
            return await self.await_expr("bad_awaitable()", None, lambda: BadAwaitable())
        if op == "mark":
            self.rec("mark", label=st["label"])
            return None
        raise NotImplementedError(f"statement {op!r} is not supported by this adapter")

    async def exec_try(self, st):
        handlers = st.get("handlers") or []
        orelse = st.get("else") or []
        final = st.get("finally")
        result = None
        try:
            try:
                result = await self.exec_block(st["body"])
            except BaseException as e:
                h = next((h for h in handlers if isinstance(e, self.cls(h["class"]))), None)
                if h is None:
                    raise
                self.rec("catch", exc=exc_view(e))
                if h.get("as"):
                    self.vars[h["as"]] = e
                result = await self.exec_block(h["body"])
            else:
                if result is None and orelse:
                    result = await self.exec_block(orelse)
        finally:
            if final:
                r = await self.exec_block(final)
                if r is not None:
                    return r
        return result

    def name_of(self, f):
        if isinstance(f, asyncio.Task):
            return f.get_name()
        return self.fut_names.get(id(f), repr(f))

    # ----- the exception handler ------------------------------------------------------

    def report(self, context, handler):
        floating = self.in_gc
        keys = sorted(k for k in context.keys())
        exc = context.get("exception")
        fields = {"message": context.get("message", ""), "context": keys, "handler": handler, "floating": floating}
        if exc is not None:
            fields["exception"] = exc_view(exc)
        self.rec("report", **fields)

    def custom_handler(self, context):
        self.report(context, "custom")
        if self.handler_mode == "raise":
            raise RuntimeError("handler failed")

    # ----- the network ---------------------------------------------------------------

    def start_streams(self, loop):
        """Make the readers and schedule the network's deliveries (in memory: the
        bytes are handed to the reader at their virtual times), reader by reader in
        name order, each in time order, as the model does."""
        if self.network is not None:
            self.network.schedule(loop, self.s.get("streams") or {})
            return
        for name in sorted(self.s.get("streams") or {}):
            spec = self.s["streams"][name]
            reader = asyncio.StreamReader(limit=int(spec.get("limit", 65536)), loop=loop)
            self.readers[name] = reader
            deliveries = spec.get("deliveries") or []
            if deliveries:
                loop.call_at(float(deliveries[0]["at"]), self.deliver, name, reader, deliveries, 0)
        for name in sorted(self.s.get("streams") or {}):
            spec = self.s["streams"][name].get("writer")
            if spec is None:
                continue
            high = int(spec.get("high_water", 65536))
            low = spec.get("low_water")
            transport = SimTransport(high, high // 4 if low is None else int(low), loop)
            protocol = asyncio.StreamReaderProtocol(self.readers[name], loop=loop)
            transport.protocol = protocol
            protocol.connection_made(transport)
            self.writers[name] = asyncio.StreamWriter(transport, protocol, self.readers[name], loop)
            consumed = spec.get("consumed") or []
            if consumed:
                loop.call_at(float(consumed[0]["at"]), self.consume, name, transport, consumed, 0)

    def open_network(self, loop):
        """Socket delivery: connect the streams before main runs (the loop runs the
        set-up at virtual time 0); nothing of it is counted as the scenario's."""
        self.setting_up = True
        try:
            self.network.open(loop, self.s.get("streams") or {})
        finally:
            self.setting_up = False
            loops.reset_counters()

    def consume(self, name, transport, consumed, i):
        """The peer takes bytes (consumption i); it schedules the next."""
        transport.peer_takes(int(consumed[i]["bytes"]), lambda taken: self.rec("delivered", reader=name, what=f"peer took {taken} bytes"))
        if i + 1 < len(consumed):
            self.loop.call_at(float(consumed[i + 1]["at"]), self.consume, name, transport, consumed, i + 1)

    def deliver(self, name, reader, deliveries, i):
        """Delivery i; it schedules the next, so a reader's arrivals stay in order
        even at equal times (asyncio's timer heap is not first-in first-out)."""
        d = deliveries[i]
        kind = d["kind"]
        writer = self.writers.get(name)
        if writer is not None and writer.transport.is_closing():
            # A closing transport has stopped reading: the arrival is not delivered.
            what = f"data {d['data'].encode('latin-1')!r}" if kind == "data" else kind
            self.rec("delivered", reader=name, what=f"dropped {what}")
        elif kind == "data":
            data = d["data"].encode("latin-1")
            self.rec("delivered", reader=name, what=f"data {data!r}")
            reader.feed_data(data)
        elif kind == "eof":
            self.rec("delivered", reader=name, what="eof")
            reader.feed_eof()
        else:
            self.rec("delivered", reader=name, what="reset")
            exc = ConnectionResetError("Connection reset by peer")
            if writer is not None:
                writer.transport.lose(exc)
            else:
                reader.set_exception(exc)
        if i + 1 < len(deliveries):
            self.loop.call_at(float(deliveries[i + 1]["at"]), self.deliver, name, reader, deliveries, i + 1)

    # ----- the run -------------------------------------------------------------------

    def run_prelude(self):
        """Statements before asyncio.run, no loop running; each on its own."""
        for st in self.s.get("prelude") or []:
            if st["op"] == "mark":
                self.rec("mark", label=st["label"])
            elif st["op"] == "create_task":
                coro = st["coro"]
                try:
                    self.call(f"asyncio.create_task({coro}())", lambda: asyncio.create_task(self.make_coro(coro)))
                except Exception:  # noqa: BLE001 - recorded by call(); the next statement runs
                    pass

    def run(self):
        self.main_task = None
        debug = bool(self.s.get("debug", False))
        limits = self.s.get("limits") or {}
        horizon = float(limits.get("horizon_secs", 3600.0))
        self.horizon = horizon
        self.steps_max = int(limits.get("steps_max", 100000))
        interrupts = [float(i["at"]) for i in (self.s.get("interrupts") or [])]
        # Finalize what earlier scenarios left in reference cycles now, before any hook
        # records: otherwise their late warnings and reports land in this trace.
        gc.collect()
        factory = loops.factory(self.loop_kind, self, horizon, interrupts)
        log_handler = loops.SlowCallbackLog(self)
        asyncio_logger = logging.getLogger("asyncio")
        asyncio_logger.addHandler(log_handler)
        asyncio_logger.propagate = False
        old_showwarning = warnings.showwarning

        def showwarning(message, category, filename, lineno, file=None, line=None):
            self.rec("warning", category=category.__name__, message=str(message).split("\n")[0])

        warnings.showwarning = showwarning
        warnings.simplefilter("always")
        # ResourceWarning is about the loop's own sockets and files, not the scenario's
        # exceptions, and the trace format has no place for it (rloop 0.5 leaks its
        # self-pipe socket pair at every run_forever end: see README's findings).
        warnings.filterwarnings("ignore", category=ResourceWarning)
        gc.disable()
        release = None
        try:
            self.run_prelude()
            try:
                with asyncio.Runner(debug=debug, loop_factory=factory) as runner:
                    if self.network is not None:
                        self.open_network(runner.get_loop())
                    v = runner.run(self.make_coro("main"))
                self.rec("finished", outcome=self.outcome(True, v))
            except BaseException as e:  # noqa: BLE001 - every outcome is data
                # A limit was recorded where it happened (the selector); after it the
                # runner's shutdown may raise anything: none of it is the scenario's.
                if not self.stopped:
                    self.rec("finished", outcome=self.outcome(False, e))
            if self.fault is not None:
                raise AdapterFault(self.fault)
            loop, self.loop = self.loop, None
            if loop is not None:
                # Drop the adapter's own reference to the loop too: what the loop still
                # holds (uvloop keeps the error that stopped it, with its traceback)
                # is then freed as in a program whose asyncio.run() has returned.
                self.end_time = loop._asyncspec_time()
                release = loop._asyncspec_releaser()
                del loop
            if not self.stopped:
                self.in_gc = True
                self.vars.clear()
                # The scenario's readers go with its variables: a reader keeps the
                # exception set on it, whose traceback keeps the failed task alive.
                self.readers.clear()
                self.writers.clear()
                self.main_task = None
                gc.collect()
            else:
                # A run stopped at a limit records nothing more, but what it left
                # (thousands of pending tasks, say) is freed now, quietly: left to the
                # next scenario's first collection, their reports would be formatted
                # there (nested task reprs, debug-mode tracebacks) for minutes.
                self.vars.clear()
                self.readers.clear()
                self.writers.clear()
                self.main_task = None
                gc.collect()
        finally:
            if self.network is not None:
                self.network.close()
            if release is not None:
                release()
            gc.enable()
            warnings.showwarning = old_showwarning
            asyncio_logger.removeHandler(log_handler)
        return self.events
