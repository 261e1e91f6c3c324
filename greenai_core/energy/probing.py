"""A backend's probe, bounded in time: a sensor driver that never answers must not hang greenai.

A probe is where a plugin first touches its hardware (opening a device, initialising a
vendor library), and a wedged driver can block there for ever. Each probe runs in a daemon
thread that is waited for at most :data:`PROBE_TIMEOUT_S`; past that the probe counts as
failed (``TimeoutError``), so ``greenai plugins`` lists it and the default selection skips
it, like a probe that raised. The thread is left behind (Python cannot stop it); while it
still runs, asking that backend again fails at once instead of starting another.
Constructors and ``read()`` are not bounded: constructors must touch no hardware, and
reads sit on the measuring path, where a thread per read would cost more than the read.
"""

from __future__ import annotations

import threading

from greenai_core.energy.backend import EnergyBackend, ProbeResult

#: Long enough for a slow but healthy vendor library (a GPU driver's first initialisation
#: can take seconds), short enough that a wedged one does not look like greenai hanging.
PROBE_TIMEOUT_S = 20.0

_lock = threading.Lock()
#: id(backend) -> the thread of a probe that did not answer in time (it holds the backend alive).
_stuck: dict[int, threading.Thread] = {}


def probe_backend(backend: EnergyBackend) -> ProbeResult:
    """``backend.probe()``'s answer; raises what it raised, or ``TimeoutError`` when it did not answer in time."""
    key = id(backend)
    with _lock:
        stuck = _stuck.get(key)
    if stuck is not None and stuck.is_alive():
        raise TimeoutError(f"an earlier probe gave no answer within {PROBE_TIMEOUT_S:g} s and still runs")
    answer: list[object] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def ask() -> None:
        try:
            answer.append(backend.probe())
        except BaseException as exc:  # handed to the caller's thread, which decides
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=ask, name="greenai-probe", daemon=True)
    thread.start()
    if not done.wait(PROBE_TIMEOUT_S):
        with _lock:
            for k in [k for k, t in _stuck.items() if not t.is_alive()]:
                del _stuck[k]
            _stuck[key] = thread
        raise TimeoutError(f"probe gave no answer within {PROBE_TIMEOUT_S:g} s (a sensor driver that hangs?)")
    if failure:
        raise failure[0]
    return answer[0]  # type: ignore[return-value]  # checked by the callers, as any plugin answer
