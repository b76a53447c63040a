"""The virtual clock for loops that keep time in native code (uvloop, rloop).

`vclock.c`, loaded with LD_PRELOAD, virtualises the monotonic clock and epoll waits of
the whole process (see its header). This module builds it once per source version into
a cache directory, re-executes the adapter with it preloaded, and gives the adapter the
few calls it needs: start a scenario's clock, advance it for blocking work, stop it.
"""

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile

_SOURCE = os.path.join(os.path.dirname(__file__), "vclock.c")
_ENV = "ASYNCSPEC_VCLOCK"


def _library_path():
    with open(_SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    cache = os.environ.get("ASYNCSPEC_CACHE") or os.path.join(tempfile.gettempdir(), "asyncspec")
    return os.path.join(cache, f"vclock-{digest}.so")


def _build(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-O2", "-shared", "-fPIC", "-o", tmp, _SOURCE, "-ldl"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit(f"asyncspec adapter: no C compiler ({cc}) to build the virtual clock for native loops")
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"asyncspec adapter: building {_SOURCE} failed:\n{e.stderr}")
    os.replace(tmp, path)


def ensure_preloaded():
    """Re-execute this process with the virtual clock preloaded (once)."""
    if os.environ.get(_ENV):
        return
    path = _library_path()
    if not os.path.exists(path):
        _build(path)
    env = dict(os.environ)
    env[_ENV] = path
    env["LD_PRELOAD"] = " ".join(p for p in (path, env.get("LD_PRELOAD", "")) if p)
    sys.stdout.flush()
    os.execve(sys.executable, list(sys.orig_argv), env)


class Clock:
    """The preloaded library's controls."""

    def __init__(self):
        lib = ctypes.CDLL(os.environ[_ENV])
        lib.asyncspec_vclock_start.argtypes = [ctypes.c_double, ctypes.c_int]
        lib.asyncspec_vclock_advance.argtypes = [ctypes.c_int64]
        lib.asyncspec_vclock_now_ns.restype = ctypes.c_int64
        self._lib = lib

    def start(self, horizon, limit_fd):
        self._lib.asyncspec_vclock_start(horizon, limit_fd)

    def stop(self):
        self._lib.asyncspec_vclock_stop()

    def advance(self, seconds):
        self._lib.asyncspec_vclock_advance(round(seconds * 1e9))

    def now_ns(self):
        return self._lib.asyncspec_vclock_now_ns()

    def limit_reason(self):
        return {0: None, 1: "deadlock", 2: "horizon"}[self._lib.asyncspec_vclock_limit_reason()]


_clock = None


def clock():
    global _clock
    if _clock is None:
        _clock = Clock()
    return _clock
