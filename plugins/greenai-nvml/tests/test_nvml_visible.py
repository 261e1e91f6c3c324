"""Which GPUs are read: CUDA_VISIBLE_DEVICES as CUDA reads it (indices, UUIDs, MIG), or an explicit choice."""

from __future__ import annotations

import pytest
from fake_pynvml import FakeGpu, Install
from greenai_nvml.backend import NvmlBackend

import greenai_core
from greenai_core.sdk import UsageError
from greenai_core.testing import fake_clock

UUIDS = [f"GPU-{i}{i}{i}{i}aaaa-0000-0000-0000-00000000000{i}" for i in range(4)]


@pytest.fixture
def four(install_nvml: Install) -> list[FakeGpu]:
    gpus = [FakeGpu(uuid=u, energy_mj=0, power_mw=100_000) for u in UUIDS]
    install_nvml(gpus)
    return gpus


def domains(backend: NvmlBackend) -> list[str]:
    return [s.domain for s in backend.counters()]


def test_all_gpus_without_cuda_visible_devices(four: list[FakeGpu]) -> None:
    assert domains(NvmlBackend()) == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]


def test_indices_name_gpus_by_their_nvml_index_and_energy_stays_per_gpu(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    backend = NvmlBackend()
    assert domains(backend) == ["gpu-2", "gpu-0"]
    with fake_clock() as clock:
        meter = greenai_core.Meter([backend]).start()
        for i, gpu in enumerate(four):
            gpu.energy_mj += 1_000 * (i + 1)
        clock.advance(1.0)
        result = meter.stop()
    assert result.domains == {"gpu-2": pytest.approx(3.0), "gpu-0": pytest.approx(1.0)}
    assert result.warnings == ()


def test_uuids_and_unique_uuid_prefixes(four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"{UUIDS[3]}, GPU-1111")
    assert domains(NvmlBackend()) == ["gpu-3", "gpu-1"]


def test_a_mig_instance_is_read_as_its_whole_parent_gpu_with_a_warning(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch
) -> None:
    mig = four[1].add_mig("MIG-0123abcd-0000-0000-0000-000000000000").uuid
    other = four[1].add_mig("MIG-4567abcd-0000-0000-0000-000000000000").uuid
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"{mig},{other}")
    backend = NvmlBackend()
    assert domains(backend) == ["gpu-1"]  # two instances of one GPU: the GPU once
    warning = (f"nvml: {mig} is a MIG instance of gpu-1 (NVIDIA H200); NVML measures whole GPUs, so gpu-1's figure "
               "includes every other instance's work on it")
    assert backend.warnings()[0] == warning
    with greenai_core.Meter([backend]) as meter:
        pass
    assert meter.result is not None and warning in meter.result.warnings


def test_the_old_mig_uuid_form_names_its_parent(four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"MIG-{UUIDS[2]}/1/0")
    assert domains(NvmlBackend()) == ["gpu-2"]


@pytest.mark.parametrize(("value", "kept", "ignored"), [
    ("1,7,0", ["gpu-1"], "entry '7' names no GPU here; as CUDA does, it and every entry after it are ignored "
                         "(2 ignored)"),
    ("1,-1,0", ["gpu-1"], "entry '-1' names no GPU here; as CUDA does, it and every entry after it are ignored "
                          "(2 ignored)"),
    ("GPU-1111,GPU-ffff,GPU-2222", ["gpu-1"], "entry 'GPU-ffff' names no GPU here; as CUDA does, it and every "
                                              "entry after it are ignored (2 ignored)"),
    ("GPU-2222,GPU-", ["gpu-2"], "entry 'GPU-' names no GPU here; as CUDA does, it and every entry after it are "
                                 "ignored (1 ignored)"),  # a prefix every UUID shares is ambiguous
    ("0,GPU-3333,2", ["gpu-0"], "entry 'GPU-3333' is not of the first entry's kind (index); as CUDA does, it and "
                                "every entry after it are ignored (2 ignored)"),
    ("GPU-3333,1", ["gpu-3"], "entry '1' is not of the first entry's kind (GPU-); as CUDA does, it and every entry "
                              "after it are ignored (1 ignored)"),
])
def test_the_list_stops_at_the_first_invalid_entry_as_in_cuda(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch, value: str, kept: list[str], ignored: str
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    backend = NvmlBackend()
    assert domains(backend) == kept
    assert backend.warnings() == [f"nvml: CUDA_VISIBLE_DEVICES {ignored}"]


@pytest.mark.parametrize(("value", "kept"), [("2gpu,1ampere", ["gpu-2", "gpu-1"]), (" +3 , 0", ["gpu-3", "gpu-0"])])
def test_ordinals_are_read_like_strtoul_as_cuda_does(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch, value: str, kept: list[str]
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    backend = NvmlBackend()
    assert (domains(backend), backend.warnings()) == (kept, [])


@pytest.mark.parametrize(("value", "twice"), [
    ("3,1,3", "gpu-3 twice ('3')"),
    ("GPU-1111,GPU-1111aaaa", "gpu-1 twice ('GPU-1111aaaa')"),  # one device by two prefixes
    ("MIG-0123abcd,MIG-0123abcd", "gpu-1 twice ('MIG-0123abcd')"),
])
def test_a_device_listed_twice_hides_every_gpu_as_in_cuda(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch, value: str, twice: str
) -> None:
    four[1].add_mig("MIG-0123abcd")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    backend = NvmlBackend()
    probe = backend.probe()
    assert not probe.available
    assert probe.reason.startswith(f"no NVIDIA GPU to read selected by CUDA_VISIBLE_DEVICES={value!r} (")
    assert backend.warnings()[-1] == f"nvml: CUDA_VISIBLE_DEVICES lists {twice}; as CUDA does, no GPU is visible"


@pytest.mark.parametrize("value", ["", "-1", "nope,0", " "])
def test_no_visible_gpu_is_unavailable_with_the_reason(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    probe = NvmlBackend().probe()
    assert not probe.available
    assert probe.reason.startswith(f"no NVIDIA GPU to read selected by CUDA_VISIBLE_DEVICES={value!r}")


def test_mixed_models_by_index_warn_about_cuda_device_order(
    install_nvml: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_nvml([FakeGpu(uuid=UUIDS[0], name="NVIDIA H200"), FakeGpu(uuid=UUIDS[1], name="NVIDIA T4")])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert NvmlBackend().warnings() == [
        "nvml: CUDA_VISIBLE_DEVICES indices are read in PCI bus order (NVML's), but CUDA orders different GPU models "
        "fastest first: set CUDA_DEVICE_ORDER=PCI_BUS_ID or use GPU UUIDs"]
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert NvmlBackend().warnings() == []


def test_an_explicit_choice_wins_over_cuda_visible_devices(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert domains(NvmlBackend(gpus=[3, UUIDS[1]])) == ["gpu-3", "gpu-1"]
    assert domains(NvmlBackend(gpus="all")) == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]
    monkeypatch.setenv("GREENAI_NVML_GPUS", "2, 1")
    backend = NvmlBackend()
    assert domains(backend) == ["gpu-2", "gpu-1"]
    assert backend.assumptions()["selected_by"] == "GREENAI_NVML_GPUS='2, 1'"


def test_an_explicit_choice_naming_no_gpu_is_unavailable(four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENAI_NVML_GPUS", "1,9")
    probe = NvmlBackend().probe()
    assert (probe.available, probe.reason) == (
        False, "GREENAI_NVML_GPUS='1,9': '9' names no GPU here (NVML indices: 0, 1, 2, 3; or a GPU-/MIG- UUID)")
    monkeypatch.setenv("GREENAI_NVML_GPUS", "1,,2")
    assert NvmlBackend().probe().reason == ("GREENAI_NVML_GPUS='1,,2': expected 'all' or NVML indices / GPU UUIDs "
                                            "separated by commas")


@pytest.mark.parametrize("gpus", [[], [True], [1.5], "0,"])
def test_a_malformed_gpus_option_is_a_usage_error(gpus: object) -> None:
    with pytest.raises(UsageError, match=r"^nvml: gpus="):
        NvmlBackend(gpus=gpus)  # type: ignore[arg-type]


def test_changing_cuda_visible_devices_starts_a_new_accounting(
    four: list[FakeGpu], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = NvmlBackend()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with greenai_core.Meter([backend]) as meter:
        pass
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    with meter:
        pass
    assert meter.result is not None and list(meter.result.domains) == ["gpu-1"]
