"""Moving the ranks' readings to rank 0 over the job's own process group, never hanging on a lost rank.

torch is imported inside functions only. On the first window of a group (and timeout) every
rank creates two gloo groups over the job's process group (``new_group`` uses the job's own
rendezvous store; gloo runs beside NCCL, and carries CPU bytes whatever the job's backend):

* an *align* group, for the barriers at the window's edges (a barrier before the stop lets
  the node's reader stop after every rank of its node finished its work);
* a *gather* group, on which each rank sends its reading to rank 0 as one fixed-size message.

Why not ``gather_object``: a collective that loses a rank raises on every rank and keeps
nothing of what arrived, and a gloo timeout closes every connection of its group. Rank 0
instead posts one receive per rank and waits for each until one shared deadline: a dead
rank's receive fails at once, a hung one's at the deadline, and the readings of the others
are kept. The barrier, which can time out, lives on its own group so that its timeout cannot
close the gather's connections. Readings travel as compressed JSON (never pickle). After a failed barrier
later windows are not aligned (no more barriers); a rank lost in a gather is not waited for
again; a rank whose send failed sends no more (rank 0 then names it missing, with a warning).
"""

from __future__ import annotations

import importlib
import json
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from greenai_core.errors import UsageError, one_line

#: The size of one reading on the wire (a header of 16 bytes, then zlib-compressed JSON): a window's
#: reading without its timeline is a few kB of JSON, under 2 kB compressed. Small on purpose: on
#: loopback TCP a 64 KiB message took ~25 ms where 8 KiB takes under 1 ms.
MESSAGE_BYTES = 8 * 1024
#: The most JSON a received reading may expand to (a bound, not a usual size).
MAX_READING_BYTES = 4 * 1024 * 1024
_HEADER = struct.Struct("<qq")  # payload length, window number
_TAG = 0x6E41  # keeps our messages apart from the job's own point-to-point traffic

_links: dict[tuple[int, float], Link] = {}
_links_lock = threading.Lock()
#: Receives abandoned at a deadline: their buffers must outlive a late sender's bytes.
_abandoned: list[Any] = []


def _dist() -> Any:
    try:
        dist: Any = importlib.import_module("torch.distributed")  # Any: the core is type-checked without torch
    except ImportError:
        raise UsageError("greenai_core.distributed needs torch (torch.distributed); install torch") from None
    if not dist.is_available() or not dist.is_initialized():
        raise UsageError("torch.distributed is not initialised: call init_process_group first in every rank "
                         "(for one process, use greenai_core.measure)")
    return dist


@dataclass
class Link:
    """The two gloo groups of one process group (and timeout), and whether they can still be trusted."""

    parent: Any
    align: Any
    gather: Any
    rank: int
    size: int
    timeout_s: float
    window: int = 0
    align_fault: str = ""  # why barriers are no longer tried ("" while healthy)
    gather_fault: str = ""  # why this rank no longer sends or receives readings
    barrier_failed_in: int = -1  # the window whose barrier failed last
    lost: set[int] = field(default_factory=set)

    def barrier(self, edge: str) -> list[str]:
        """All ranks meet (bounded by the timeout); a failure is a warning and marks the link faulty."""
        if self.size == 1:
            return []
        if self.align_fault:
            return [f"rank {self.rank}: the window's {edge} is not aligned with the other ranks' "
                    f"({self.align_fault})"] if edge == "stop" else []
        try:
            _dist().barrier(group=self.align)
        except Exception as exc:  # a dead peer (reset connection) or a hung one (the group's timeout)
            self.align_fault = f"the barrier at a window's {edge} failed: {one_line(exc, 160)}"
            self.barrier_failed_in = self.window
            return [f"rank {self.rank}: {self.align_fault}; from now on windows are not aligned"]
        return []

    def send(self, payload: bytes) -> list[str]:
        """A rank other than 0: send this window's reading to rank 0, waiting at most the timeout."""
        torch: Any = importlib.import_module("torch")

        if self.gather_fault:
            return [f"rank {self.rank}: reading not sent to rank 0 ({self.gather_fault})"]
        message = torch.zeros(MESSAGE_BYTES, dtype=torch.uint8)
        message[: _HEADER.size + len(payload)] = torch.frombuffer(
            bytearray(_HEADER.pack(len(payload), self.window) + payload), dtype=torch.uint8)
        try:
            work = _dist().isend(message, group=self.gather, group_dst=0, tag=_TAG)
            work.wait(timedelta(seconds=self.timeout_s))
        except Exception as exc:
            self.gather_fault = f"sending to rank 0 failed: {one_line(exc, 160)}"
            return [f"rank {self.rank}: {self.gather_fault}"]
        return []

    def receive(self) -> tuple[dict[int, bytes], list[str]]:
        """Rank 0: every other rank's reading that arrives before the deadline, and what went wrong."""
        torch: Any = importlib.import_module("torch")

        dist = _dist()
        # after a failed barrier the others may still wait in theirs, up to the timeout: wait for them too
        wait_s = self.timeout_s * (2 if self.barrier_failed_in == self.window else 1)
        deadline = time.monotonic() + wait_s
        posted: dict[int, tuple[Any, Any]] = {}
        problems: dict[int, str] = {}
        for peer in range(1, self.size):
            if peer in self.lost:
                problems[peer] = "lost in an earlier window"
                continue
            buffer = torch.zeros(MESSAGE_BYTES, dtype=torch.uint8)
            try:
                posted[peer] = (dist.irecv(buffer, group=self.gather, group_src=peer, tag=_TAG), buffer)
            except Exception as exc:  # its connection is already gone (the rank died)
                problems[peer] = one_line(exc, 160)
        payloads: dict[int, bytes] = {}
        for peer, (work, buffer) in posted.items():
            try:
                work.wait(timedelta(seconds=max(deadline - time.monotonic(), 0.001)))
            except Exception as exc:
                problems[peer] = one_line(exc, 160)
                _abandoned.append((work, buffer))
                continue
            data = buffer.numpy().tobytes()
            length, window = _HEADER.unpack_from(data)
            if window != self.window or not 0 <= length <= MESSAGE_BYTES - _HEADER.size:
                problems[peer] = f"a reading of window {window} arrived in window {self.window}"
                continue
            payloads[peer] = data[_HEADER.size: _HEADER.size + length]
        self.lost |= set(problems)
        return payloads, [f"rank {peer}: no reading received ({why})" for peer, why in sorted(problems.items())]


def link_for(group: Any, timeout_s: float) -> Link:
    """The link of ``group`` (``None``: the job's whole world), created on first use by every rank of it."""
    dist = _dist()
    parent = group if group is not None else dist.group.WORLD
    key = (id(parent), timeout_s)
    with _links_lock:
        link = _links.get(key)
        if link is not None and _alive(dist, link):
            link.window += 1
            return link
        for stale in [k for k, old in _links.items() if not _alive(dist, old)]:  # groups the job destroyed
            del _links[stale]
        try:
            ranks = None if group is None else dist.get_process_group_ranks(parent)
            timeout = timedelta(seconds=timeout_s)
            # every rank of the group creates both, in the same order (new_group is collective)
            local = ranks is not None  # a subgroup: only its members take part in creating ours
            align = dist.new_group(ranks=ranks, timeout=timeout, backend="gloo", use_local_synchronization=local)
            gather = dist.new_group(ranks=ranks, timeout=timeout, backend="gloo", use_local_synchronization=local)
            link = Link(parent, align, gather, dist.get_rank(parent), dist.get_world_size(parent), timeout_s)
        except Exception as exc:  # bounded by the timeout: a rank that did not come (or came with other options)
            raise UsageError(f"the gloo groups of a distributed window could not be created (every rank of the group "
                             f"must open its first window with the same group and timeout_s): {one_line(exc, 200)}"
                             ) from None
        _links[key] = link  # the link holds ``parent``: its id cannot be reused while cached
        return link


def _alive(dist: Any, link: Link) -> bool:
    """False once the job destroyed its process groups (a new init gets new links)."""
    try:
        return bool(dist.get_world_size(link.gather) == link.size)
    except Exception:
        return False


def encode(data: dict[str, Any]) -> bytes:
    """A reading as compressed JSON that fits one message: if need be without the backends' assumptions, then
    with fewer and shorter warnings (a note says so); ``UsageError`` when even its figures do not fit."""
    payload = zlib.compress(json.dumps(data, allow_nan=False).encode())
    measurement = data.get("measurement", {})  # none in the note of a rank whose reading could not be sent
    warnings = [str(w) for w in measurement.get("warnings", [])]
    for keep in (20, 5, 0):
        if len(payload) <= MESSAGE_BYTES - _HEADER.size:
            break
        for backend in measurement.get("backends", []):
            backend["assumptions"] = {}
        kept = [w if len(w) <= 300 else w[:299] + "…" for w in warnings[:keep]]
        measurement["warnings"] = [*kept, f"reading trimmed to fit one message: assumptions left out, "
                                          f"{len(warnings) - len(kept)} of {len(warnings)} warnings left out, "
                                          "long ones cut"]
        payload = zlib.compress(json.dumps(data, allow_nan=False).encode())
    if len(payload) > MESSAGE_BYTES - _HEADER.size:
        raise UsageError(f"a reading of {len(payload)} compressed bytes does not fit one message of "
                         f"{MESSAGE_BYTES} bytes")
    return payload


def decode(payload: bytes) -> Any:
    """The JSON of a received reading, expanded within a bound; ``ValueError`` when it is none."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(payload, MAX_READING_BYTES)
    except zlib.error as exc:
        raise ValueError(f"not compressed JSON ({exc})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(f"larger than {MAX_READING_BYTES} bytes, or cut short")
    return json.loads(text.decode())
