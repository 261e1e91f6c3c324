"""The built-in estimate follows its documented model: CPU seconds x watts per logical CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from greenai_core import Meter
from greenai_core.energy import estimate
from greenai_core.energy.estimate import EstimateBackend, watts_per_cpu
from greenai_core.errors import UsageError

TICK = 1.0 / os.sysconf("SC_CLK_TCK")


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def test_figure_is_cpu_time_times_watts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_CPU_WATTS", "10")
    before = cpu_seconds()
    with Meter([EstimateBackend()]) as meter:
        burn(0.3)
    used = cpu_seconds() - before
    m = meter.result
    assert m is not None and m.method == "estimated"
    assert m.energy_j == pytest.approx(used * 10, abs=2 * TICK * 10)
    assert m.energy_j >= 0.3 * 10 - 2 * TICK * 10
    assert m.resolution_j == pytest.approx(1e-6 * 10)  # getrusage's microsecond, not the clock tick
    a = m.backends[0].assumptions
    assert a["watts_per_cpu"] == 10 and a["watts_source"] == "environment variable GREENAI_CPU_WATTS"
    assert m.scopes == {"cpu": "process"} and m.components == {"cpu": "cpu"}
    assert m.backends[0].summary.startswith("CPU time of the measured process tree x 10 W per logical CPU")


def test_waited_for_children_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_CPU_WATTS", "5")
    child = "import time\nend=time.process_time()+0.4\nwhile time.process_time()<end: pass"
    with Meter([EstimateBackend()]) as meter:
        subprocess.run([sys.executable, "-c", child], check=True)
    assert meter.result is not None and meter.result.energy_j >= 0.4 * 5 * 0.9


def test_live_descendants_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child still running at stop: its CPU time so far is read from /proc."""
    monkeypatch.setenv("GREENAI_CPU_WATTS", "5")
    child = "import time,sys\nend=time.process_time()+0.4\nwhile time.process_time()<end: pass\n" \
            "print('done', flush=True)\nsys.stdin.read()"
    meter = Meter([EstimateBackend()]).start()
    proc = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "done"
        m = meter.stop()  # the child is alive, not yet reaped
    finally:
        proc.communicate("")
    assert m.energy_j >= 0.4 * 5 * 0.9


def test_watts_come_from_option_env_table_or_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREENAI_CPU_WATTS", raising=False)
    assert watts_per_cpu(7.5) == (7.5, "option watts_per_cpu")
    monkeypatch.setattr(estimate, "cpu_model_name", lambda: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")
    watts, source = watts_per_cpu()
    assert watts == 3.5 and "Intel Xeon" in source and "Gold 6248" in source
    monkeypatch.setattr(estimate, "cpu_model_name", lambda: "13th Gen Intel(R) Core(TM) i7-1360P")
    assert watts_per_cpu()[0] == 2.0
    monkeypatch.setattr(estimate, "cpu_model_name", lambda: "Mystery CPU 9000")
    assert watts_per_cpu() == (estimate.DEFAULT_WATTS_PER_CPU,
                               "default (CPU model 'Mystery CPU 9000' not in the family table)")
    monkeypatch.setenv("GREENAI_CPU_WATTS", "4")
    assert watts_per_cpu()[0] == 4.0


@pytest.mark.parametrize("bad", ["lots", "-3", "0", "inf", "-inf", "nan", "1e999"])
def test_bad_watts_are_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("GREENAI_CPU_WATTS", bad)
    with pytest.raises(UsageError, match="GREENAI_CPU_WATTS"):
        watts_per_cpu()
    probe = EstimateBackend().probe()
    assert not probe.available and "GREENAI_CPU_WATTS" in probe.reason
    with pytest.raises(UsageError, match="GREENAI_CPU_WATTS"):  # a usage error, not "backend unavailable"
        Meter([EstimateBackend()]).start()
    with pytest.raises(UsageError, match="GREENAI_CPU_WATTS"):
        Meter().start()


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0, 0.0])
def test_bad_watts_option_is_refused_at_construction(bad: float) -> None:
    with pytest.raises(UsageError, match="option watts_per_cpu must be a finite positive number of watts"):
        EstimateBackend(watts_per_cpu=bad)


def test_a_few_milliseconds_of_cpu_give_a_positive_figure_close_to_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed README's short-function case: a window of ~5 ms CPU is never 0 J."""
    monkeypatch.setenv("GREENAI_CPU_WATTS", "10")
    backend = EstimateBackend()
    Meter([backend]).start().stop()  # warm: discovery out of the window
    outer0 = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    with Meter([backend]) as meter:
        inner0 = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
        burn(0.005)
        inner1 = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    outer1 = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    m = meter.result
    assert m is not None and m.energy_j > 0 and not m.partial
    # Between the CPU time of the work itself and that of the whole window with the meter's reads.
    assert (inner1 - inner0) * 10 <= m.energy_j + 1e-6 * 10
    assert m.energy_j <= (outer1 - outer0) * 10 + 1e-6 * 10
    assert not any("coarse" in w for w in m.warnings)


def test_a_live_descendant_is_read_in_nanoseconds_from_schedstat_not_in_ticks() -> None:
    """A stopped child holds still: its figure is exactly its threads' schedstat run time, not a tick count."""
    child = "import os, signal, time\nend = time.process_time() + 0.03\nwhile time.process_time() < end: pass\n" \
            "os.kill(os.getpid(), signal.SIGSTOP)"
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        tasks = os.listdir(f"/proc/{proc.pid}/task")
        run_ns = sum(int(open(f"/proc/{proc.pid}/task/{t}/schedstat").read().split()[0]) for t in tasks)
        seconds, kids = estimate._descendant(proc.pid)
        assert (seconds, kids) == (run_ns / 1e9, [])
        assert proc.pid in estimate.own_children()
    finally:
        proc.kill()
        proc.wait()
