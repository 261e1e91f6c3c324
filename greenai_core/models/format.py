"""The model format interface and how a file finds its format.

A format says which suffixes it usually claims and recognises its files by content
(``sniff``). The suffix only orders the candidates: a ``.pt`` file can be a pickle,
a TorchScript archive or an exported program, and a wrong suffix is detected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from greenai_core.errors import ModelFormatError

if TYPE_CHECKING:
    from greenai_core.models.model import Model


class ModelFormat(ABC):
    """One kind of model file. Subclasses set ``name`` and ``suffixes`` and implement both methods."""

    name: ClassVar[str]
    #: Suffixes this format usually has, lower case with the dot (".onnx"); "/" for folders.
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: One line shown by ``greenai plugins``.
    description: ClassVar[str] = ""

    @abstractmethod
    def sniff(self, path: Path) -> bool:
        """Whether ``path`` holds a model of this format, judged by content. Must not raise."""

    @abstractmethod
    def load(self, path: Path, *, device: str = "cpu", trust: bool = False, **options: Any) -> Model:
        """Load the model. Raise ``ModelFormatError`` (naming the path) for a bad file."""

    def explain(self, path: Path) -> str:
        """Why ``sniff`` said no, in a few words (used in the error when this format claims the suffix)."""
        return ""

    def claims_suffix(self, path: Path) -> bool:
        if path.is_dir():
            return "/" in self.suffixes
        return path.suffix.lower() in self.suffixes


def select_format(path: str | Path, formats: Mapping[str, ModelFormat], wanted: str | None = None) -> ModelFormat:
    """The format that can load ``path``: asked by name, else the first whose sniffer says yes.

    Formats claiming the file's suffix are asked first; the others after, so content wins
    over a misleading suffix.
    """
    p = Path(path)
    if not p.exists():
        raise ModelFormatError(f"{p}: no such file or folder")
    if wanted is not None:
        if wanted not in formats:
            known = ", ".join(sorted(formats)) or "none installed"
            raise ModelFormatError(f"{p}: unknown model format {wanted!r} (installed: {known})")
        fmt = formats[wanted]
        if not fmt.sniff(p):
            raise ModelFormatError(f"{p}: content is not a {wanted} model")
        return fmt
    ordered: Sequence[ModelFormat] = sorted(formats.values(), key=lambda f: not f.claims_suffix(p))
    for fmt in ordered:
        if fmt.sniff(p):
            return fmt
    tried = ", ".join(f.name for f in ordered) or "none (no model format plugin is installed)"
    what = "a folder without a model" if p.is_dir() else "not a model file of any installed format"
    claimed = [f for f in ordered if f.claims_suffix(p) and f.explain(p)]
    if claimed:
        what = "; ".join(f"not recognised as {f.name}: {f.explain(p)}" for f in claimed)
    raise ModelFormatError(f"{p}: {what} (formats tried: {tried})")
