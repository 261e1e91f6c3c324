"""Plugin faults contained: raising backends and sniffs recorded and skipped; deterministic load order."""

from __future__ import annotations

import json
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from fake_backends import ConstantBackend
from greenai_cli_runner import greenai, install_distribution

from greenai_core import Meter, hookimpl
from greenai_core.cli import main
from greenai_core.cli.plugins_cmd import collect
from greenai_core.energy import ProbeResult, probing
from greenai_core.errors import BackendUnavailableError, GreenAIError
from greenai_core.models import ModelFormat
from greenai_core.plugins import MAX_RECORDED_ERRORS, Registry

#: An installed plugin with one backend whose constructor raises and one whose probe raises.
FAULTY_MODULE = '''
from greenai_core.sdk import EnergyBackend, ProbeResult, CounterSpec, hookimpl

class CtorBoom(EnergyBackend):
    name = "ctor-boom"
    def __init__(self):
        raise RuntimeError("no driver for ctor-boom")
    def probe(self): return ProbeResult.ok()
    def counters(self): return [CounterSpec("x", 1.0)]
    def read(self): return {"x": 0}

class ProbeBoom(CtorBoom):
    name = "probe-boom"
    def __init__(self): pass
    def probe(self): raise OSError("sensor bus on fire")

@hookimpl
def register_energy_backends(register):
    register(CtorBoom)
    register(ProbeBoom)
'''


class CtorBoom(ConstantBackend):
    name = "ctor-boom"

    def __init__(self) -> None:
        raise RuntimeError("no driver")


class ProbeBoom(ConstantBackend):
    name = "probe-boom"

    def probe(self) -> ProbeResult:
        raise OSError("sensor bus on fire")


class NotAProbe(ConstantBackend):
    name = "not-a-probe"

    def probe(self) -> Any:
        return True


class TxtFormat(ModelFormat):
    name = "txtmodel"

    def sniff(self, path: Path) -> bool:
        return False

    def load(self, path: Path, **options: Any) -> Any:
        raise AssertionError("never chosen: its sniff says no to every file")


def plugin(**hooks: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{k: hookimpl(v) for k, v in hooks.items()})


def faulty_plugin() -> types.SimpleNamespace:
    def backends(register: Any) -> None:
        for cls in (CtorBoom, ProbeBoom, NotAProbe, ConstantBackend):
            register(cls)

    return plugin(register_energy_backends=backends)


def test_raising_constructor_and_probe_are_recorded_and_skipped(registry: Registry) -> None:
    record = registry.add_plugin(faulty_plugin(), "faulty")
    assert record.status == "loaded"
    for _ in range(2):  # asked twice: the constructor is not retried, the errors are not repeated
        with pytest.raises(BackendUnavailableError) as info:
            registry.backend("ctor-boom")
        assert isinstance(info.value, GreenAIError)
        assert str(info.value) == "energy backend 'ctor-boom' is unavailable: failed to start: RuntimeError: no driver"
        assert registry.probe("ctor-boom") == ProbeResult.unavailable("failed to start: RuntimeError: no driver")
        assert registry.probe("probe-boom") == ProbeResult.unavailable("probe failed: OSError: sensor bus on fire")
        assert registry.probe("not-a-probe") == ProbeResult.unavailable("probe returned bool, not a ProbeResult")
    assert record.errors == [
        "energy backend 'ctor-boom' failed to start: RuntimeError: no driver",
        "energy backend 'probe-boom': probe failed: OSError: sensor bus on fire",
        "energy backend 'not-a-probe': probe returned bool, not a ProbeResult",
    ]
    assert registry.probe("constant").available  # the plugin's sound backend still works
    listed = collect()
    assert listed["backends"]["ctor-boom"] == {"plugin": "faulty", "method": "measured", "available": False,
                                               "reason": "failed to start: RuntimeError: no driver"}
    assert next(p for p in listed["plugins"] if p["name"] == "faulty")["errors"] == record.errors


class Wedged(ConstantBackend):
    """A sensor whose driver never answers its probe (until the test lets it go)."""

    name = "wedged"
    release = threading.Event()

    def probe(self) -> ProbeResult:
        self.release.wait()
        return ProbeResult.unavailable("released")


def test_a_probe_that_never_answers_is_a_failed_probe_not_a_hang(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probing, "PROBE_TIMEOUT_S", 0.05)
    monkeypatch.setattr(Wedged, "release", threading.Event())  # a fresh one each run
    record = registry.add_plugin(plugin(register_energy_backends=lambda register: register(Wedged)), "wedged-plugin")
    try:
        m = Meter().start().stop()  # the default selection skips it, with the reason
        assert [b.name for b in m.backends] == ["estimate"]
        assert "wedged: probe failed (TimeoutError: probe gave no answer within 0.05 s (a sensor driver that " \
               "hangs?))" in m.warnings[0]
        assert registry.probe("wedged") == ProbeResult.unavailable(  # asked again: no second thread, no wait
            "probe failed: TimeoutError: an earlier probe gave no answer within 0.05 s and still runs")
        assert record.errors == ["energy backend 'wedged': probe failed: TimeoutError: an earlier probe gave no "
                                 "answer within 0.05 s and still runs"]
        with pytest.raises(BackendUnavailableError, match="wedged' is unavailable: probe failed: TimeoutError"):
            Meter(["wedged"]).start()
    finally:
        Wedged.release.set()


def test_plugins_table_lists_the_faults(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    registry.add_plugin(faulty_plugin(), "faulty")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "loaded (3 faults, below)" in out
    assert "faulty  energy backend 'probe-boom': probe failed: OSError: sensor bus on fire" in out.splitlines()
    assert "ctor-boom    measured   unavailable  failed to start: RuntimeError: no driver" in out.splitlines()


def test_format_errors_are_recorded_bounded_and_deduplicated(registry: Registry) -> None:
    record = registry.add_plugin(plugin(register_model_formats=lambda register: register(TxtFormat())), "txt")
    registry.record_format_error("txtmodel", "sniff raised ValueError:\n  bad header")
    registry.record_format_error("txtmodel", "sniff raised ValueError:\n  bad header")
    registry.record_format_error("no-such-format", "ignored")
    assert record.status == "loaded" and record.error is None
    assert record.errors == ["model format 'txtmodel': sniff raised ValueError: bad header"]
    for i in range(3 * MAX_RECORDED_ERRORS):
        registry.record_format_error("txtmodel", f"failure {i}")
    assert len(record.errors) == MAX_RECORDED_ERRORS
    assert record.errors[-1] == "further errors were not kept"
    assert record.errors[-2] == f"model format 'txtmodel': failure {MAX_RECORDED_ERRORS - 3}"
    assert "txtmodel" in registry.formats()


def test_installed_faulty_backends_are_listed_and_measure_still_works(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_distribution(site, "greenai-faulty", {"faulty": "greenai_faulty"}, {"greenai_faulty": FAULTY_MODULE})
    env = {"PYTHONPATH": str(site), "GREENAI_STRICT_PLUGINS": "1"}  # a runtime fault is no load error
    r = greenai("plugins", "--json", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    faulty = next(p for p in data["plugins"] if p["name"] == "faulty")
    assert faulty["status"] == "loaded" and faulty["distribution"] == "greenai-faulty"
    assert faulty["errors"] == ["energy backend 'ctor-boom' failed to start: RuntimeError: no driver for ctor-boom",
                                "energy backend 'probe-boom': probe failed: OSError: sensor bus on fire"]
    assert data["backends"]["probe-boom"]["available"] is False
    table = greenai("plugins", env=env)
    assert table.returncode == 0 and "sensor bus on fire" in table.stdout and table.stderr == ""
    m = greenai("measure", "--", sys.executable, "-c", "print('still works')", env=env)
    assert (m.returncode, m.stdout) == (0, "still works\n"), m.stderr
    assert "Traceback" not in m.stderr
    named = greenai("measure", "--backend", "ctor-boom", "--", sys.executable, "-c", "pass", env=env)
    assert named.returncode == 2
    assert named.stderr == ("greenai: error: energy backend 'ctor-boom' is unavailable: failed to start: "
                            "RuntimeError: no driver for ctor-boom\n")
    named = greenai("measure", "--backend", "probe-boom", "--", sys.executable, "-c", "pass", env=env)
    assert named.returncode == 2
    assert named.stderr == ("greenai: error: energy backend 'probe-boom' is unavailable: probe failed: "
                            "OSError: sensor bus on fire\n")


SICK_MODULE = '''
from greenai_core.sdk import EnergyBackend, ProbeResult, CounterSpec, hookimpl

class Sick(EnergyBackend):
    name = "sick"
    def probe(self): return ProbeResult.ok("answers the probe, then never reads")
    def counters(self): return [CounterSpec("gpu-0", 1.0, component="gpu")]
    def read(self): raise LookupError("sensor table corrupt")

@hookimpl
def register_energy_backends(register):
    register(Sick)
'''


def test_a_sensor_whose_reads_raise_leaves_measure_working_and_the_exit_code_through(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_distribution(site, "greenai-sick", {"sick": "greenai_sick"}, {"greenai_sick": SICK_MODULE})
    env = {"PYTHONPATH": str(site), "GREENAI_STRICT_PLUGINS": "1"}
    r = greenai("measure", "--", sys.executable, "-c", "print('ran'); raise SystemExit(3)", env=env)
    assert (r.returncode, r.stdout) == (3, "ran\n"), r.stderr
    assert "Traceback" not in r.stderr
    assert "warning: sick: gpu-0 could not be read during this window (read() raised LookupError: sensor table " \
           "corrupt); no figure (0 J shown, not in the total)" in r.stderr.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in r.stderr.splitlines() if line.startswith(("gpu-0", "cpu "))}
    assert rows["gpu-0"] == ["unreadable", "no"] and rows["cpu"][-1] == "yes"
    data = json.loads(greenai("measure", "--json", "-", "--", sys.executable, "-c", "raise SystemExit(4)",
                              env=env).stdout)
    assert data["exit_code"] == 4 and data["unreadable_domains"] == ["gpu-0"] and data["counted_domains"] == ["cpu"]
    assert data["method"] == "estimated" and data["domains"]["gpu-0"] == 0.0


def clash_sites(tmp_path: Path) -> tuple[Path, Path]:
    """Two distributions registering the same backend name, and two using the same plugin name."""
    backend = ("from greenai_core.sdk import EnergyBackend, hookimpl\n"
               "class Dup(EnergyBackend):\n    name = 'dup'\n"
               "    def probe(self): ...\n    def counters(self): ...\n    def read(self): ...\n"
               "@hookimpl\ndef register_energy_backends(register):\n    register(Dup)\n")
    first, second = tmp_path / "first", tmp_path / "second"
    # zeta is found first on sys.path, yet alpha loads first and wins.
    install_distribution(first, "greenai-zeta", {"zeta": "greenai_zeta", "same": "greenai_zeta"},
                         {"greenai_zeta": backend})
    install_distribution(second, "greenai-alpha", {"alpha": "greenai_alpha", "same": "greenai_alpha2"},
                         {"greenai_alpha": backend, "greenai_alpha2": ""})
    return first, second


@pytest.mark.parametrize("reverse", [False, True])
def test_load_order_and_clash_winner_do_not_depend_on_sys_path(reverse: bool, tmp_path: Path) -> None:
    sites = [str(p) for p in clash_sites(tmp_path)]
    env = {"PYTHONPATH": ":".join(reversed(sites) if reverse else sites), "GREENAI_STRICT_PLUGINS": "0"}
    r = greenai("plugins", "--json", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    ours = [(p["name"], p["distribution"], p["status"], p["error"]) for p in data["plugins"]
            if p["name"] in {"alpha", "zeta", "same"}]
    assert ours == [
        ("alpha", "greenai-alpha", "loaded", None),
        ("same", "greenai-alpha", "loaded", None),
        ("zeta", "greenai-zeta", "error", "energy backend 'dup' is already registered by plugin 'alpha'"),
        ("same", "greenai-zeta", "error",
         "the name is already taken by greenai-alpha 1.0; greenai-zeta 1.0 is not loaded"),
    ]
    assert data["backends"]["dup"]["plugin"] == "alpha"


def test_strict_clash_messages_name_both_plugins_once(tmp_path: Path) -> None:
    sites = ":".join(str(p) for p in clash_sites(tmp_path))
    r = greenai("plugins", env={"PYTHONPATH": sites, "GREENAI_STRICT_PLUGINS": "1", "GREENAI_DISABLE_PLUGINS": "same"})
    assert r.returncode == 2
    assert r.stderr == ("greenai: error: plugin 'zeta': energy backend 'dup' is already registered by plugin "
                        "'alpha' (GREENAI_STRICT_PLUGINS is set)\n")
    r = greenai("plugins", env={"PYTHONPATH": sites, "GREENAI_STRICT_PLUGINS": "1", "GREENAI_DISABLE_PLUGINS": "zeta"})
    assert r.returncode == 2
    assert r.stderr == ("greenai: error: plugin 'same': the name is already taken by greenai-alpha 1.0; "
                        "greenai-zeta 1.0 is not loaded (GREENAI_STRICT_PLUGINS is set)\n")
