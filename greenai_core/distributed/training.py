"""``distributed.profile_training``: a DDP training's energy per *global* step, for the whole job.

Under DDP every rank runs every global step on its share of the batch, so one global step
costs what all ranks use together in it. Each rank runs ``profile_training`` as usual (its
own report: per-step windows of this rank, where a machine-wide counter sees the whole node)
inside one ``distributed.measure`` window; rank 0 divides the job's energy by the global steps.

The figure is a mean over the training (validation and the loop's setup included), not a
per-step distribution: a per-step job figure would need a collective at every step. The idle
baseline is not measured (``baseline_s=0``): inside the job's window it would be counted as
training, and ranks waiting for each other are part of a distributed step's cost anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from greenai_core.distributed.job import JobMeasurement
from greenai_core.distributed.meter import DEFAULT_TIMEOUT_S, DistributedMeter
from greenai_core.energy.selection import BackendSpec
from greenai_core.errors import UsageError

if TYPE_CHECKING:
    from greenai_core.models.model import Model
    from greenai_core.profiling.report import TrainingReport


@dataclass(frozen=True)
class DistributedTrainingProfile:
    """This rank's ``report``; on rank 0 also the ``job`` window and the energy per global step."""

    report: TrainingReport
    global_steps: int
    job: JobMeasurement | None
    #: The job's energy divided by the global steps (rank 0; ``None`` elsewhere or without steps).
    energy_per_global_step_j: float | None

    @property
    def partial(self) -> bool:
        """Whether the per-step figure is a lower bound: a rank missing, or a domain partial (see ``job.warnings``)."""
        return self.job is not None and self.job.partial

    def to_dict(self) -> dict[str, Any]:
        return {"global_steps": self.global_steps, "energy_per_global_step_j": self.energy_per_global_step_j,
                "partial": self.partial,
                "job": self.job.to_dict() if self.job is not None else None, "report": self.report.to_dict()}


def profile_training(
    model: Model,
    data: Any,
    *,
    group: Any = None,
    node_id: str | None = None,
    device: int | str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backends: BackendSpec = None,
    **options: Any,
) -> DistributedTrainingProfile:
    """Call in every rank, each with its share of the data; ``options`` as ``greenai_core.profile_training``'s.

    Every rank must run the same number of steps (DDP's contract); rank 0 counts its own.
    """
    from greenai_core.profiling.training import profile_training as profile_one

    if options.get("baseline_s", 0) not in (0, 0.0):
        raise UsageError("baseline_s: the idle baseline is not measured in a distributed profile (leave it out)")
    options["baseline_s"] = 0.0
    meter = DistributedMeter(backends, group=group, node_id=node_id, device=device, timeout_s=timeout_s,
                             sync=_sync_of(model))
    with meter:
        report = profile_one(model, data, backends=backends, **options)
    steps = int(report.steps["count"])
    job = meter.result
    per_step = job.energy_j / steps if job is not None and steps else None
    return DistributedTrainingProfile(report, steps, job, per_step)


def _sync_of(model: Model) -> Callable[[], object] | None:
    sync = getattr(model, "sync", None)
    return sync if callable(sync) else None
