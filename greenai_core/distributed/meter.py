"""``distributed.measure``: one window that every rank of a torch.distributed job opens and closes together.

Each rank runs its own ``Meter`` (the same backends as ``greenai_core.measure``); the edges
are aligned by a barrier, and at the end each rank's reading goes to rank 0 of the group
(``transport``), which combines them (``accounting.combine``) into a ``JobMeasurement``:

>>> with distributed.measure() as m:        # doctest: +SKIP  (in every rank)
...     train()
>>> m.result          # rank 0: the JobMeasurement; other ranks: None   # doctest: +SKIP
>>> m.local           # every rank: its own Measurement                  # doctest: +SKIP

Other ranks get ``None`` rather than a copy: sending the job's figure back would cost one more
collective per window, and the reports are written by rank 0 anyway.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any

from greenai_core.distributed import transport
from greenai_core.distributed.accounting import combine
from greenai_core.distributed.job import JobMeasurement, RankReading
from greenai_core.energy.measurement import Measurement
from greenai_core.energy.meter import Meter
from greenai_core.energy.selection import BackendSpec
from greenai_core.errors import UsageError, one_line

NODE_ENV = "GREENAI_NODE_ID"
DEFAULT_TIMEOUT_S = 60.0
_GPU_DOMAIN = re.compile(r"gpu-\d{1,4}")


def node_identity(node_id: str | None = None) -> str:
    """``node_id``, else ``$GREENAI_NODE_ID``, else the host name: ranks with the same one share machine counters."""
    value = node_id if node_id is not None else os.environ.get(NODE_ENV) or socket.gethostname()
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise UsageError(f"node_id must be a non-empty string of at most 200 characters, not {str(value)[:60]!r}")
    return value.strip()


def local_rank() -> int | None:
    """The rank within its node, as torchrun sets it (``LOCAL_RANK``); ``None`` when not set."""
    value = os.environ.get("LOCAL_RANK", "")
    return int(value) if value.isdigit() else None


def owned_gpus(device: int | str | None) -> tuple[str, ...]:
    """The GPU domains (``gpu-N``, N the NVML index) a rank computing on ``device`` owns.

    ``device``: a CUDA ordinal (``1``, ``"cuda:1"``), a domain (``"gpu-3"``), ``"cpu"``, or
    ``None``: torch's current CUDA device where CUDA is initialised, else ``LOCAL_RANK`` where
    CUDA is available (torchrun's convention: rank ``LOCAL_RANK`` uses ``cuda:LOCAL_RANK``),
    else none. An ordinal becomes an NVML index through ``CUDA_VISIBLE_DEVICES`` when it lists
    indices; with UUIDs there it cannot be told, and the GPU is counted for the node, unattributed.
    """
    if isinstance(device, str) and _GPU_DOMAIN.fullmatch(device):
        return (device,)
    ordinal = _ordinal(device)
    if ordinal is None:
        return ()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return (f"gpu-{ordinal}",)
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if ordinal < len(entries) and entries[ordinal].isdigit():
        return (f"gpu-{int(entries[ordinal])}",)
    return ()


def _ordinal(device: int | str | None) -> int | None:
    if isinstance(device, bool):
        raise UsageError(f"device must be a CUDA ordinal, 'cuda:N', 'gpu-N', 'cpu' or None, not {device!r}")
    if isinstance(device, int):
        if device < 0:
            raise UsageError(f"device must be a CUDA ordinal (0 or more), not {device}")
        return device
    if isinstance(device, str):
        text = device.strip().lower()
        if text == "cpu":
            return None
        match = re.fullmatch(r"cuda(?::(\d{1,4}))?", text)
        if match is None:
            raise UsageError(f"device must be a CUDA ordinal, 'cuda:N', 'gpu-N', 'cpu' or None, not {device!r}")
        return int(match.group(1) or 0)
    if device is not None:
        raise UsageError(f"device must be a CUDA ordinal, 'cuda:N', 'gpu-N', 'cpu' or None, not {device!r}")
    try:
        torch: Any = importlib.import_module("torch")  # Any: the core is type-checked without torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    if torch.cuda.is_initialized():
        return int(torch.cuda.current_device())
    return local_rank()


class DistributedMeter:
    """One window of a distributed job; every rank of ``group`` must start and stop it together.

    ``result``: rank 0 of the group gets the ``JobMeasurement``, the others ``None``;
    ``local``: each rank's own ``Measurement``; ``warnings``: what went wrong in this rank's
    collectives (also in rank 0's result). A rank lost mid-window costs at most ``timeout_s``
    at each edge, never a hang. Every rank passes the same ``group`` and ``timeout_s``: the first
    window on them creates the gloo groups the readings travel on, a collective of the group.
    """

    def __init__(
        self,
        backends: BackendSpec = None,
        *,
        group: Any = None,
        node_id: str | None = None,
        device: int | str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sync: Callable[[], object] | None = None,
        timeline: bool = False,
    ) -> None:
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
                or not (math.isfinite(timeout_s) and 0 < timeout_s <= 86_400):
            raise UsageError(f"timeout_s must be a number of seconds between 0 and 86400, not {timeout_s!r}")
        self.node_id = node_identity(node_id)
        self.gpus = owned_gpus(device)
        self._group = group
        self._timeout_s = float(timeout_s)
        self._meter = Meter(backends, sync=sync, timeline=timeline)
        self._link: transport.Link | None = None
        self.result: JobMeasurement | None = None
        self.local: Measurement | None = None
        self.warnings: list[str] = []

    def start(self) -> DistributedMeter:
        if self._meter.running:
            raise UsageError("this distributed meter is already running")
        self._link = transport.link_for(self._group, self._timeout_s)
        self.result, self.local = None, None
        self.warnings = self._link.barrier("start")
        self._meter.start()
        return self

    def stop(self) -> JobMeasurement | None:
        link = self._link
        if link is None or not self._meter.running:
            raise UsageError("this distributed meter was not started")
        self.warnings += link.barrier("stop")  # every rank's work is done before any reader stops
        local = self._meter.stop()
        self.local = local
        reading = RankReading(link.rank, self.node_id, local_rank(), self.gpus, local)
        if link.rank != 0:
            try:
                payload = transport.encode(_reading_dict(reading))
            except UsageError as exc:  # why goes instead: rank 0 then names it at once, not at its deadline
                self.warnings.append(f"rank {link.rank}: reading not sent ({exc})")
                payload = transport.encode({"rank": link.rank, "unsent": one_line(exc, 300)})
            self.warnings += link.send(payload)
            return None
        payloads, problems = link.receive()
        readings, bad = [reading], []
        for peer, payload in payloads.items():
            try:
                readings.append(_reading_from(payload, peer))
            except UsageError as exc:
                bad.append(f"rank {peer}: its reading is unusable ({exc})")
        self.warnings += problems + bad
        self.result = combine(readings, world_size=link.size, warnings=self.warnings)
        return self.result

    def __enter__(self) -> DistributedMeter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def measure(backends: BackendSpec = None, **options: Any) -> DistributedMeter:
    """``with distributed.measure() as m: ...`` in every rank, then ``m.result`` on rank 0; see ``DistributedMeter``."""
    return DistributedMeter(backends, **options)


def _reading_dict(reading: RankReading) -> dict[str, Any]:
    measurement = {**reading.measurement.to_dict(), "timeline": []}  # the job figure needs no timelines
    return {"rank": reading.rank, "node_id": reading.node_id, "local_rank": reading.local_rank,
            "gpus": list(reading.gpus), "measurement": measurement}


def _reading_from(payload: bytes, peer: int) -> RankReading:
    """A peer's reading, checked as untrusted input: ``UsageError`` (one line) for anything combine cannot use."""
    try:
        data = transport.decode(payload)
        if isinstance(data, dict) and "unsent" in data:
            raise UsageError(f"the rank could not send it: {str(data['unsent'])[:300]}")
        rank, node, local, gpus = data["rank"], data["node_id"], data["local_rank"], data["gpus"]
    except RecursionError:  # JSON nested deeper than Python's stack: not a reading either
        raise UsageError("not a reading: nested too deeply") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"not a reading: {type(exc).__name__} {one_line(exc, 120)}") from None
    if rank != peer or not isinstance(node, str) or not node.strip() or len(node) > 200 \
            or not isinstance(gpus, list) or not all(isinstance(g, str) and _GPU_DOMAIN.fullmatch(g) for g in gpus) \
            or not (local is None or (isinstance(local, int) and not isinstance(local, bool))):
        raise UsageError("not a reading: bad rank, node_id, local_rank or gpus")
    measurement = Measurement.from_dict(data["measurement"])
    _check_keys(measurement)
    return RankReading(peer, node.strip(), local, tuple(gpus), measurement)


def _check_keys(m: Measurement) -> None:
    """Every domain named anywhere in a peer's measurement is one of its domains, every label a string."""
    named = [*m.counted_domains, *m.partial_domains, *m.scopes, *m.components]
    if not all(isinstance(k, str) and k in m.domains for k in named):
        raise UsageError("not a reading: its measurement names domains it has no figure for")
    if not all(isinstance(v, str) for v in [*m.scopes.values(), *m.components.values()]):
        raise UsageError("not a reading: a domain's scope or component is not a string")
