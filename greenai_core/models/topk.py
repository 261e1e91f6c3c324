"""Top-K classes from model outputs, with softmax only where outputs are not probabilities yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

PROBABILITIES = "probabilities (the model's own output)"
SOFTMAX = "softmax of the model's outputs (logits)"


def are_probabilities(scores: np.ndarray, tolerance: float = 1e-3) -> bool:
    import numpy as np

    return bool(np.all(scores >= 0) and np.all(scores <= 1) and np.allclose(scores.sum(axis=1), 1, atol=tolerance))


def top_k(outputs: np.ndarray, k: int, labels: Sequence[str] | None = None) -> tuple[list[list[dict[str, Any]]], str]:
    import numpy as np

    scores = outputs.reshape(outputs.shape[0], -1).astype(np.float64)
    kind = PROBABILITIES
    if not are_probabilities(scores):
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = shifted / shifted.sum(axis=1, keepdims=True)
        kind = SOFTMAX
    results = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        results.append([{"class": int(i), "label": labels[i] if labels and i < len(labels) else str(int(i)),
                         "score": float(row[i])} for i in order])
    return results, kind
