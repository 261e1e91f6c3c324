"""``greenai measure`` as users run it: signals in a real terminal, --json checks, exec failures, pipes."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from greenai_cli_runner import GREENAI, greenai

from greenai_core.cli import main
from greenai_core.cli.measure_cmd import print_measurement
from greenai_core.energy.measurement import BackendReport, Measurement
from greenai_core.plugins import Registry

#: A command that says how it inherited SIGINT, waits, and dies of the signal it gets (as a shell would).
WAITING_CHILD = r"""
import os, signal, sys, time
state = "ignored" if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else "default"
def die_of(signum, frame):
    print(f"child: saw {signal.Signals(signum).name}", flush=True)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
for s in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, die_of)
try:  # from the first line printed on, a KeyboardInterrupt is caught
    print(f"child: SIGINT {state}", flush=True)
    time.sleep(30)
    print("child: no signal came", flush=True)
except KeyboardInterrupt:
    die_of(signal.SIGINT, None)
"""

#: Makes the launched process a session leader owning the terminal on fd 0, so that it is the
#: terminal's foreground process group (as a shell would make it), then execs greenai.
TERMINAL_LAUNCHER = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                     "os.execv(sys.argv[1], sys.argv[1:])")


def read_until(fd: int, needle: str, seen: list[str], deadline: float, once: bool = False) -> bool:
    """Read the terminal into ``seen`` until ``needle`` shows up (True) or it closes (False); or one chunk."""
    while needle not in "".join(seen):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {needle!r} in time; got {''.join(seen)!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process holding the terminal has gone
            return False
        if not chunk:
            return False
        seen.append(chunk.decode(errors="replace").replace("\r\n", "\n"))
        if once:
            break
    return True


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_in_a_terminal_reach_the_command_and_report_interrupted(how: str, tmp_path: Path) -> None:
    """greenai in a real pseudo-terminal, in its foreground group: ^C typed on it, or SIGTERM sent to greenai alone."""
    signum = signal.SIGINT if how == "ctrl-c" else signal.SIGTERM
    out = tmp_path / "m.json"
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", TERMINAL_LAUNCHER, *GREENAI, "measure", "--json", str(out), "--",
         sys.executable, "-c", WAITING_CHILD],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )
    os.close(slave)
    seen: list[str] = []
    try:
        read_until(master, "child: SIGINT", seen, time.monotonic() + 60)
        while not "".join(seen).split("child: SIGINT", 1)[1].strip():
            read_until(master, "\0never", seen, time.monotonic() + 10, once=True)
        assert "child: SIGINT default" in "".join(seen), "the command inherited an ignored SIGINT"
        if how == "ctrl-c":
            os.write(master, b"\x03")  # the terminal's ^C: the kernel signals the foreground group
        else:
            proc.send_signal(signal.SIGTERM)  # to greenai only (the launcher exec'd it): it must pass it on
        read_until(master, "\0never", seen, time.monotonic() + 60)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = "".join(seen)
    assert f"child: saw {signum.name}" in text
    assert f"warning: interrupted by {signum.name}" in text and "total" in text and "Traceback" not in text
    assert code == 128 + signum
    data = json.loads(out.read_text())
    assert data["interrupted"] == signum.name and data["exit_code"] == 128 + signum
    assert math.isfinite(data["energy_j"]) and data["energy_j"] >= 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_to_greenai_alone_is_forwarded(signum: signal.Signals, tmp_path: Path) -> None:
    """No terminal here, so nobody else delivers it: greenai passes it on (SIGINT included)."""
    out = tmp_path / "m.json"
    proc = subprocess.Popen([*GREENAI, "measure", "--json", str(out), "--", sys.executable, "-c", WAITING_CHILD],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "child: SIGINT default\n"
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stdout == f"child: saw {signum.name}\n"
    assert proc.returncode == 128 + signum
    assert f"warning: interrupted by {signum.name}" in stderr and "Traceback" not in stderr
    data = json.loads(out.read_text())
    assert (data["interrupted"], data["exit_code"]) == (signum.name, 128 + signum)


def test_exit_code_and_output_pass_through_with_json_fields(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    r = greenai("measure", "--json", str(out), "--", sys.executable, "-c", "print('hi'); raise SystemExit(5)")
    assert (r.returncode, r.stdout) == (5, "hi\n")
    data = json.loads(out.read_text())
    assert (data["exit_code"], data["interrupted"]) == (5, None)
    assert "interrupted" not in r.stderr


def test_json_to_stdout_holds_only_the_json() -> None:
    r = greenai("measure", "--json", "-", "--", sys.executable, "-c",
                "import sys; print('child stdout'); print('child stderr', file=sys.stderr)")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # nothing else on stdout
    assert data["exit_code"] == 0 and data["energy_j"] >= 0
    assert r.stderr == "child stdout\nchild stderr\n"


@pytest.mark.parametrize("case", ["missing-folder", "folder-as-file", "unwritable", "dangling-link"])
def test_json_path_is_checked_before_the_command_runs(case: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    locked = tmp_path / "locked"
    if case == "unwritable":
        # Root ignores file modes: sysfs refuses new files even to root.
        locked = Path("/sys") if os.geteuid() == 0 else locked
        if locked != Path("/sys"):
            locked.mkdir(mode=0o500)
    target = {"missing-folder": tmp_path / "nowhere" / "m.json", "folder-as-file": tmp_path,
              "unwritable": locked / "m.json", "dangling-link": tmp_path / "link.json"}[case]
    if case == "dangling-link":
        target.symlink_to(tmp_path / "gone.json")
    r = greenai("measure", "--json", str(target), "--", sys.executable, "-c",
                f"open({str(marker)!r}, 'w').close()")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and str(target) in r.stderr, r.stderr
    assert not marker.exists(), "the command ran although its result could not be written"


def test_json_through_a_fifo_and_a_symlink(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    r = greenai("measure", "--json", str(fifo), "--", sys.executable, "-c", "pass")
    reader.join(timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(received[0])["exit_code"] == 0
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    r = greenai("measure", "--json", str(link), "--", sys.executable, "-c", "pass")
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and json.loads(real.read_text())["exit_code"] == 0


def test_json_to_dev_stdout_redirected_to_a_file_keeps_the_command_output(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with open(out, "w") as fh:  # as the shell does for `greenai measure --json /dev/stdout -- cmd > out.txt`
        r = subprocess.run([*GREENAI, "measure", "--json", "/dev/stdout", "--", sys.executable, "-c",
                            "print('from the command')"], stdout=fh, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    first, rest = out.read_text().split("\n", 1)
    assert first == "from the command" and json.loads(rest)["exit_code"] == 0


@pytest.mark.parametrize("case", ["not-found", "not-executable", "directory", "bad-format", "not-a-dir-component",
                                  "no-interpreter", "not-found-on-path"])
def test_every_failure_to_start_is_one_line_126_or_127(case: str, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("just text\n")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x7fELF\x00garbage that is no executable")
    garbage.chmod(0o755)
    script = tmp_path / "script"
    script.write_text("#!/no/such/interpreter\n")
    script.chmod(0o755)
    command, code, needle = {
        "not-found": (str(tmp_path / "missing"), 127, "command not found"),
        "not-found-on-path": ("no-such-command-xyz", 127, "command not found"),
        "not-executable": (str(plain), 126, "not executable"),
        "directory": (str(tmp_path), 126, "is a directory"),
        "bad-format": (str(garbage), 126, "not a valid executable format"),
        "not-a-dir-component": (str(plain / "sub"), 127, "command not found"),
        "no-interpreter": (str(script), 126, "interpreter"),
    }[case]
    r = greenai("measure", "--", command, "arg")
    assert r.returncode == code, r.stderr
    assert r.stderr.count("\n") == 1 and needle in r.stderr and command in r.stderr, r.stderr
    assert r.stdout == ""


def test_a_nul_in_an_argument_is_one_line(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    """A NUL cannot come through a real argv; only through main()'s argv."""
    assert main(["measure", "--", "true", "a\0b"]) == 126
    assert capsys.readouterr().err == "greenai: error: cannot run true: argument 1 contains a NUL byte\n"
    assert main(["measure", "--", "tr\0ue"]) == 127
    assert "command not found" in capsys.readouterr().err


def closed_pipe() -> int:
    """The write end of a pipe whose reader has gone, like ``| head`` after its first line."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize("args", [("plugins",), ("plugins", "--json"), ("measure", "--json", "-", "--", "true")])
def test_a_reader_that_went_away_ends_quietly(args: tuple[str, ...]) -> None:
    stdout = closed_pipe()
    try:
        r = subprocess.run([*GREENAI, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(stdout)
    assert r.returncode == 141
    assert r.stderr == ""  # no traceback, no "Exception ignored"


def test_plugins_into_head_in_a_shell() -> None:
    r = subprocess.run(["sh", "-c", 'exec "$@" | head -1', "sh", *GREENAI, "plugins"], capture_output=True,
                       text=True, timeout=120)
    assert r.stdout.split() == ["plugin", "distribution", "version", "status", "formats", "backends"]
    assert r.stderr == ""


def measurement(domains: dict[str, float], energy: float, summary: str = "") -> Measurement:
    report = BackendReport(name="estimate", version="1", method="estimated", total_rule="", domains=tuple(domains),
                           counted_domains=tuple(domains), resolution_j=0.01, update_period_s=0.01,
                           assumptions={"model": "cpu x watts", "watts_per_cpu": 3.0}, summary=summary)
    return Measurement(energy_j=energy, duration_s=2.0, domains=domains, method="estimated", backends=(report,),
                       resolution_j=0.01, counted_domains=tuple(domains))


def test_table_never_prints_a_negative_or_nan(capsys: pytest.CaptureFixture[str]) -> None:
    print_measurement(measurement({"cpu": float("nan"), "dram": -1.5}, float("inf")), ["cmd"])
    lines = capsys.readouterr().err.splitlines()
    table = "\n".join(lines[: next(i for i, line in enumerate(lines) if line.startswith("estimated by")) + 1])
    assert "nan" not in table.lower() and "-1.5" not in table and "inf" not in table
    assert [line.split()[:2] for line in lines if line.startswith(("cpu", "dram", "total"))] == [
        ["cpu", "invalid"], ["dram", "invalid"], ["total", "invalid"]]
    assert "warning: cpu: the backend gave no valid figure (nan); shown as invalid" in lines
    assert "warning: dram: the backend gave no valid figure (-1.5); shown as invalid" in lines


def test_each_backend_prints_its_own_summary(capsys: pytest.CaptureFixture[str]) -> None:
    print_measurement(measurement({"cpu": 6.0}, 6.0, summary="cpu x watts; 3 W per CPU (set)"), ["cmd"])
    err = capsys.readouterr().err
    assert "  estimate: cpu x watts; 3 W per CPU (set)" in err.splitlines()
    assert "estimated by estimate 1; 2.000 s, 3 W average, resolution 10 mJ" in err
    print_measurement(measurement({"cpu": 6.0}, 6.0, summary=""), ["cmd"])
    assert "estimate:" not in capsys.readouterr().err  # nothing about a backend hard-coded in the CLI


#: The command starts a grandchild that burns 0.5 CPU-s and ends, and exits without reaping it.
ABANDONS_A_FINISHED_GRANDCHILD = r"""
import os, time
pid = os.fork()
if pid == 0:
    start = time.process_time()
    while time.process_time() - start < 0.5:
        pass
    os._exit(0)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # it has ended; left unreaped, it goes to whoever adopts it
"""


def test_cpu_time_of_a_grandchild_the_command_abandoned_is_counted() -> None:
    r = greenai("measure", "--backend", "estimate", "--json", "-", "--", sys.executable, "-c",
                ABANDONS_A_FINISHED_GRANDCHILD, env={"GREENAI_CPU_WATTS": "1"})
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["energy_j"] >= 0.5  # at 1 W per CPU: at least the grandchild's 0.5 CPU-s
    assert not any("still run" in w for w in data["warnings"])


def test_a_grandchild_still_running_after_the_command_is_a_warning() -> None:
    r = greenai("measure", "--json", "-", "--", sys.executable, "-c",
                "import os, time\nif os.fork() == 0:\n    null = os.open(os.devnull, os.O_RDWR)\n"
                "    for fd in (0, 1, 2):\n        os.dup2(null, fd)  # not holding our pipes open\n"
                "    time.sleep(60)\n    os._exit(0)\n")
    try:
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert ("1 process(es) started by the command still run after it ended; energy they use from now on is "
                "not in this measurement") in data["warnings"]
    finally:  # the grandchild is the only child of the command: find it by its parent's pid, now gone
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"time.sleep(60)" in cmdline:
                    os.kill(int(pid), signal.SIGKILL)
