"""asyncio's synchronization primitives and queues: the `sync_new`, `sync_call` and
`sync_await` statements, run on the runtime's own classes (Lock, Event, Condition,
Semaphore, BoundedSemaphore, Barrier, Queue, PriorityQueue, LifoQueue).

Recorded as the model records them (model/src/asyncio/locks.rs): a constructor only
when it raises, every synchronous method or property as a `call` event, every awaited
method as a `resume` event. An attribute the class lacks raises AttributeError: recorded
by a call (the lookup is part of it), not by an await (it happens before the await).
"""

import asyncio

SYNC_OPS = frozenset({"sync_new", "sync_call", "sync_await"})

_CLASSES = {
    "lock": "Lock",
    "event": "Event",
    "condition": "Condition",
    "semaphore": "Semaphore",
    "bounded_semaphore": "BoundedSemaphore",
    "barrier": "Barrier",
    "queue": "Queue",
    "priority_queue": "PriorityQueue",
    "lifo_queue": "LifoQueue",
}

_PROPERTIES = frozenset({"maxsize", "parties", "n_waiting", "broken"})


def _item(v):
    """A scenario value as the program's object ({"bytes": ...} is bytes)."""
    if isinstance(v, dict) and set(v) == {"bytes"}:
        return v["bytes"].encode("latin-1")
    if isinstance(v, list):
        return [_item(x) for x in v]
    return v


def var_sync(interp, name):
    """The object a variable holds, whatever it is: its methods are then looked up as
    Python does (an int has no put_nowait: AttributeError)."""
    return interp.lookup(name)


def _show(v):
    from .interp import show_value

    return show_value(v)


async def exec_stmt(interp, st):
    op = st["op"]
    if op == "sync_new":
        name = _CLASSES[st["kind"]]
        value = st.get("value")
        # The argument is evaluated before the call: an unbound lock variable raises
        # without a call.
        lock = var_sync(interp, st["lock"]) if st.get("lock") is not None else None
        if lock is not None:
            args, shown = [lock], st["lock"]
        elif value is not None:
            args, shown = [value], str(value)
        else:
            args, shown = [], ""
        try:
            obj = getattr(asyncio, name)(*args)
        except BaseException as e:
            interp.rec("call", call=f"asyncio.{name}({shown})", outcome=interp.outcome(False, e))
            raise
        interp.vars[st["var"]] = obj
        return None
    target = st["target"]
    # NameError now, before any event; the object is looked up again inside the call,
    # so no frame of a failing call keeps it (a kept task would outlive the run on a loop
    # that keeps the error: rloop keeps a failed timeout's task and its exception).
    var_sync(interp, target)
    method = st["method"]
    has_arg = "arg" in st
    item = _item(st.get("arg"))
    if op == "sync_call":
        if method in _PROPERTIES:
            label, fn = f"{target}.{method}", lambda: getattr(var_sync(interp, target), method)
        elif method == "shutdown" and has_arg:
            label, fn = f"{target}.shutdown(immediate={_show(item)})", lambda: var_sync(interp, target).shutdown(immediate=item)
        elif has_arg:
            label, fn = f"{target}.{method}({_show(item)})", lambda: getattr(var_sync(interp, target), method)(item)
        else:
            label, fn = f"{target}.{method}()", lambda: getattr(var_sync(interp, target), method)()
        v = interp.call(label, fn)
        if st.get("var"):
            interp.vars[st["var"]] = v
        return None
    if op == "sync_await":
        # The method is looked up before the await (an AttributeError records nothing).
        bound = getattr(var_sync(interp, target), method)
        if has_arg:
            label, make = f"{target}.{method}({_show(item)})", lambda: bound(item)
        else:
            label, make = f"{target}.{method}()", lambda: bound()
        return await interp.await_expr(label, st.get("var"), make)
    raise NotImplementedError(f"statement {op!r} is not a sync statement")
