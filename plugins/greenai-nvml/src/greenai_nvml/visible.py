"""Which GPUs to read: ``CUDA_VISIBLE_DEVICES`` as CUDA reads it, or an explicit choice.

Domains are named by NVML index (``gpu-N``, as ``nvidia-smi`` numbers them), whatever
CUDA calls the device inside the process. ``CUDA_VISIBLE_DEVICES`` entries are CUDA
ordinals, GPU UUIDs (``GPU-8932f937-...``, or a unique prefix of one) or MIG UUIDs
(``MIG-...``, or the older ``MIG-GPU-<uuid>/<gi>/<ci>``). It is read as CUDA reads it (as
PyTorch's ``torch.cuda._parse_visible_devices`` mirrors it): the first entry sets the kind
(``GPU-`` UUIDs, ``MIG-`` UUIDs, else ordinals read like ``strtoul``: ``1gpu`` is 1); the list
ends at the first entry of another kind or that names no device (an index out of range, an
unknown UUID, ``-1``); a device listed twice hides every GPU, as does an empty value. A MIG instance is read as its
parent GPU: NVML's energy counter covers the whole board, so a warning says that the
figure includes the other instances' work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from greenai_nvml.library import NvmlUnavailable, describe_error

CUDA_ENV = "CUDA_VISIBLE_DEVICES"
GPUS_ENV = "GREENAI_NVML_GPUS"
_INDEX_RE = re.compile(r"-?[0-9]+")
_ORDINAL_RE = re.compile(r"\s*([+-]?[0-9]+)")  # what strtoul reads; anything after the digits is ignored


@dataclass(frozen=True)
class Gpu:
    """One physical GPU as NVML sees it."""

    index: int  # NVML index (nvidia-smi's)
    handle: Any
    uuid: str
    name: str

    @property
    def domain(self) -> str:
        return f"gpu-{self.index}"


@dataclass
class Selection:
    gpus: list[Gpu]
    source: str  # what chose them, for reports
    warnings: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def all_gpus(nv: Any) -> tuple[list[Gpu], list[str]]:
    """Every GPU NVML can open, and a warning per GPU it cannot (in a container, one not granted)."""
    try:
        count = int(nv.nvmlDeviceGetCount())
    except nv.NVMLError as exc:
        raise NvmlUnavailable(f"NVML could not count the GPUs ({describe_error(exc)})") from None
    gpus, skipped = [], []
    for index in range(count):
        try:
            handle = nv.nvmlDeviceGetHandleByIndex(index)
            uuid = _text(nv.nvmlDeviceGetUUID(handle))
            name = _text(nv.nvmlDeviceGetName(handle))
        except nv.NVMLError as exc:
            skipped.append(f"nvml: gpu-{index} skipped: {describe_error(exc)}")
            continue
        gpus.append(Gpu(index, handle, uuid, name))
    return gpus, skipped


def _by_uuid_prefix(gpus: Sequence[Gpu], prefix: str) -> Gpu | None:
    matches = [g for g in gpus if g.uuid.lower().startswith(prefix.lower())]
    return matches[0] if len(matches) == 1 else None


def _mig_parent(nv: Any, gpus: Sequence[Gpu], entry: str) -> Gpu | None:
    """The GPU a MIG instance lives on (NVML first; the old ``MIG-GPU-<uuid>/gi/ci`` form names it)."""
    try:
        handle = nv.nvmlDeviceGetHandleByUUID(entry)
        is_mig = nv.nvmlDeviceIsMigDeviceHandle(handle)
        if bool(getattr(is_mig, "value", is_mig)):  # pynvml returns a ctypes c_uint here
            parent = nv.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(handle)
            uuid = _text(nv.nvmlDeviceGetUUID(parent))
            return next((g for g in gpus if g.uuid == uuid), None)
    except nv.NVMLError:
        pass
    if entry.startswith("MIG-GPU-"):
        return _by_uuid_prefix(gpus, entry[len("MIG-"):].split("/", 1)[0])
    return None


def resolve_entry(nv: Any, gpus: Sequence[Gpu], entry: str) -> tuple[Gpu | None, bool]:
    """``(the GPU entry names or None, whether it named a MIG instance)``."""
    if _INDEX_RE.fullmatch(entry):
        index = int(entry)
        return next((g for g in gpus if g.index == index), None), False
    if entry.startswith("MIG-"):
        return _mig_parent(nv, gpus, entry), True
    if entry.startswith("GPU-"):
        return _by_uuid_prefix(gpus, entry), False
    return None, False


def _mig_warning(entry: str, gpu: Gpu) -> str:
    return (f"nvml: {entry} is a MIG instance of {gpu.domain} ({gpu.name}); NVML measures whole GPUs, so "
            f"{gpu.domain}'s figure includes every other instance's work on it")


def _kind(entry: str) -> str:
    return "GPU-" if entry.startswith("GPU-") else "MIG-" if entry.startswith("MIG-") else "index"


def _cuda_entry(nv: Any, gpus: Sequence[Gpu], entry: str, kind: str) -> tuple[Gpu | None, bool]:
    """What one entry of a list of ``kind`` names: ``(the GPU or None, whether a MIG instance)``."""
    if kind != "index":
        return resolve_entry(nv, gpus, entry) if entry.startswith(kind) else (None, False)
    ordinal = _ORDINAL_RE.match(entry)
    if ordinal is None or int(ordinal.group(1)) < 0:
        return None, False
    index = int(ordinal.group(1))
    return next((g for g in gpus if g.index == index), None), False


def from_cuda_visible(nv: Any, gpus: Sequence[Gpu], value: str) -> Selection:
    """The GPUs ``CUDA_VISIBLE_DEVICES=value`` shows to CUDA."""
    source = f"{CUDA_ENV}={value!r}"
    chosen: list[Gpu] = []
    warnings: list[str] = []
    entries = [e.strip() for e in value.split(",")] if value.strip() else []
    kind = _kind(entries[0]) if entries else "index"
    seen: list[str] = []
    for position, entry in enumerate(entries):
        gpu, mig = _cuda_entry(nv, gpus, entry, kind)
        if gpu is None:
            rest = entries[position:]
            why = "names no GPU here" if _kind(entry) == kind else f"is not of the first entry's kind ({kind})"
            warnings.append(f"nvml: {CUDA_ENV} entry {entry[:60]!r} {why}; as CUDA does, it and every entry after "
                            f"it are ignored ({len(rest)} ignored)")
            break
        if entry in seen or (gpu in chosen and not mig):
            # CUDA then shows no device at all (cudaErrorNoDevice), so no GPU can do this process's work
            warnings.append(f"nvml: {CUDA_ENV} lists {gpu.domain} twice ({entry[:60]!r}); as CUDA does, no GPU is "
                            "visible")
            return Selection([], source, warnings)
        seen.append(entry)
        if mig:
            warnings.append(_mig_warning(entry, gpu))
        if gpu not in chosen:
            chosen.append(gpu)
    if kind == "index" and chosen and len({g.name for g in gpus}) > 1 \
            and os.environ.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        warnings.append(f"nvml: {CUDA_ENV} indices are read in PCI bus order (NVML's), but CUDA orders different "
                        "GPU models fastest first: set CUDA_DEVICE_ORDER=PCI_BUS_ID or use GPU UUIDs")
    return Selection(chosen, source, warnings)


def parse_choice(value: str | Sequence[int | str]) -> list[str] | None:
    """An explicit choice as entries (None: all GPUs); ``ValueError`` for a malformed one."""
    if isinstance(value, str):
        if value.strip().lower() == "all":
            return None
        entries = [e.strip() for e in value.split(",")]
    else:
        entries = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                raise ValueError(f"{item!r} is neither an NVML index nor a UUID")
            entries.append(str(item).strip())
    if not entries or any(not e for e in entries):
        raise ValueError("expected 'all' or NVML indices / GPU UUIDs separated by commas")
    return entries


def from_choice(nv: Any, gpus: Sequence[Gpu], entries: Sequence[str], source: str) -> Selection:
    """An explicit choice: every entry must name a GPU (it is the user's own setting)."""
    chosen: list[Gpu] = []
    warnings: list[str] = []
    for entry in entries:
        gpu, mig = resolve_entry(nv, gpus, entry)
        if gpu is None:
            here = ", ".join(str(g.index) for g in gpus) or "none"
            raise NvmlUnavailable(f"{source}: {entry[:60]!r} names no GPU here (NVML indices: {here}; or a GPU-/MIG- "
                                  "UUID)")
        if mig:
            warnings.append(_mig_warning(entry, gpu))
        if gpu not in chosen:
            chosen.append(gpu)
    return Selection(chosen, source, warnings)
