"""Energy of torch.distributed jobs: one figure per job, machine-wide counters counted once per node.

``measure(...)`` opens a window in every rank; at its end the readings go to rank 0 of the
group over the job's own process group, which gets a ``JobMeasurement`` (per node, per rank,
the job total). Importing this package imports no torch: that happens at the first window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenai_core._lazy import lazy_exports

_EXPORTS = {
    "measure": "greenai_core.distributed.meter",
    "DistributedMeter": "greenai_core.distributed.meter",
    "node_identity": "greenai_core.distributed.meter",
    "owned_gpus": "greenai_core.distributed.meter",
    "combine": "greenai_core.distributed.accounting",
    "profile_training": "greenai_core.distributed.training",
    "DistributedTrainingProfile": "greenai_core.distributed.training",
    "JobMeasurement": "greenai_core.distributed.job",
    "NodeMeasurement": "greenai_core.distributed.job",
    "RankMeasurement": "greenai_core.distributed.job",
    "RankReading": "greenai_core.distributed.job",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from greenai_core.distributed.accounting import combine as combine
    from greenai_core.distributed.job import (
        JobMeasurement as JobMeasurement,
    )
    from greenai_core.distributed.job import (
        NodeMeasurement as NodeMeasurement,
    )
    from greenai_core.distributed.job import (
        RankMeasurement as RankMeasurement,
    )
    from greenai_core.distributed.job import (
        RankReading as RankReading,
    )
    from greenai_core.distributed.meter import (
        DistributedMeter as DistributedMeter,
    )
    from greenai_core.distributed.meter import (
        measure as measure,
    )
    from greenai_core.distributed.meter import (
        node_identity as node_identity,
    )
    from greenai_core.distributed.meter import (
        owned_gpus as owned_gpus,
    )
    from greenai_core.distributed.training import (
        DistributedTrainingProfile as DistributedTrainingProfile,
    )
    from greenai_core.distributed.training import (
        profile_training as profile_training,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
