"""The model format interface and how a file finds its format.

A format says which suffixes it usually claims and recognises its files by content
(``sniff``). The suffix only orders the candidates: a ``.pt`` file can be a pickle,
a TorchScript archive or an exported program, and a wrong suffix is detected.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from greenai_core.errors import ModelFormatError, one_line
from greenai_core.models.sniff import special_file

if TYPE_CHECKING:
    from greenai_core.models.devices import Device
    from greenai_core.models.model import Model


class ModelFormat(ABC):
    """One kind of model file. Subclasses set ``name`` and ``suffixes`` and implement both methods."""

    name: ClassVar[str]
    #: Suffixes this format usually has, lower case with the dot (".onnx"); "/" for folders.
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: One line shown by ``greenai plugins``.
    description: ClassVar[str] = ""
    #: The format's own load options: name -> one-line description. Only these reach ``load``;
    #: the core's (normalize, image_size, layout, labels) are applied by the core, never passed on.
    options: ClassVar[Mapping[str, str]] = {}
    #: Device kinds ``load`` can use ("cpu", "cuda"); any other is one DeviceError before loading.
    device_kinds: ClassVar[tuple[str, ...]] = ("cpu",)

    @abstractmethod
    def sniff(self, path: Path) -> bool:
        """Whether ``path`` holds a model of this format, judged by content, cheaply.

        ``path`` is a regular file or a folder (the core refuses FIFOs, sockets and devices
        before asking). The file is untrusted: read bounded amounts only, through the SDK's
        ``read_head`` (a bounded head), ``open_zip`` (a zip's member list, size-checked) and
        ``read_member`` (one member, size- and ratio-checked, read with a limit); never
        unpickle, import or run anything from it. Answer False rather than raise: a sniff that
        raises is treated as "not mine" for this file and recorded against the plugin.
        """

    @abstractmethod
    def load(self, path: Path, *, device: Device, trust: bool, **options: Any) -> Model:
        """Load the model onto ``device`` (parsed, of one of ``device_kinds``) and return a ``Model``.

        ``options`` hold only names declared in ``options``. Raise a ``GreenAIError`` subclass
        naming the path for a bad file (``ModelFormatError``, ``UnsafeModelError`` when loading would
        run code and ``trust`` is False, ``DeviceError`` for a device this machine lacks); anything
        else raised is reported by the core as the plugin's failure, with the file and plugin named.
        """

    def explain(self, path: Path) -> str:
        """Why ``sniff`` said no, in a few words (used in the error when this format claims the suffix).

        The same rules as ``sniff``: bounded reads, no raising (an error here is recorded and ignored).
        """
        return ""

    def claims_suffix(self, path: Path) -> bool:
        if path.is_dir():
            return "/" in self.suffixes
        return path.suffix.lower() in self.suffixes


def select_format(
    path: str | Path,
    formats: Mapping[str, ModelFormat],
    wanted: str | None = None,
    *,
    on_sniff_error: Callable[[ModelFormat, Exception], None] | None = None,
) -> ModelFormat:
    """The format that can load ``path``: asked by name, else the first whose sniffer says yes.

    Formats claiming the file's suffix are asked first; the others after, so content wins
    over a misleading suffix. FIFOs, sockets and devices are refused before any sniffer
    sees them (reading one could block forever or never end). A format whose ``sniff`` (or
    ``explain``) raises counts as "not mine" for this file; ``on_sniff_error(format, error)``
    is told, and the other formats still get their turn.
    """
    p = Path(path)
    check_model_path(p)
    crashed: dict[str, str] = {}  # format -> its sniff's error, told in the final message if nothing fits

    def sniffs(fmt: ModelFormat) -> bool:
        try:
            return bool(fmt.sniff(p))
        except Exception as exc:  # a plugin's bug must not hide the file from the other formats
            crashed[fmt.name] = f"{type(exc).__name__}: {one_line(exc, 120)}"
            if on_sniff_error is not None:
                on_sniff_error(fmt, exc)
            return False

    def explains(fmt: ModelFormat) -> str:
        try:
            return str(fmt.explain(p) or "")
        except Exception as exc:
            if on_sniff_error is not None:
                on_sniff_error(fmt, exc)
            return ""

    if wanted is not None:
        if wanted not in formats:
            known = ", ".join(sorted(formats)) or "none installed"
            raise ModelFormatError(f"{p}: unknown model format {wanted!r} (installed: {known})")
        fmt = formats[wanted]
        if not sniffs(fmt):
            why = f"its sniff raised {crashed[wanted]}" if wanted in crashed else explains(fmt)
            raise ModelFormatError(f"{p}: content is not a {wanted} model" + (f" ({why})" if why else ""))
        return fmt
    ordered: Sequence[ModelFormat] = sorted(formats.values(), key=lambda f: not f.claims_suffix(p))
    for fmt in ordered:
        if sniffs(fmt):
            return fmt
    tried = ", ".join(f.name for f in ordered) or "none (no model format plugin is installed)"
    what = "a folder without a model" if p.is_dir() else "not a model file of any installed format"
    reasons = [(f.name, explains(f)) for f in ordered if f.claims_suffix(p)]
    if any(why for _, why in reasons):
        why_not = "; ".join(f"not recognised as {name}: {why}" for name, why in reasons if why)
        # A folder keeps the general reason: which folder formats are installed varies, the fact does not.
        what = f"{what}: {why_not}" if p.is_dir() else why_not
    failed = "".join(f"; format {name} failed to examine it ({err})" for name, err in crashed.items())
    raise ModelFormatError(f"{p}: {what} (formats tried: {tried}){failed}")


def check_model_path(path: Path) -> None:
    """Raise a one-line ``ModelFormatError`` unless ``path`` is an existing, readable file or folder."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise ModelFormatError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError:  # a NUL byte in the path: no file can have that name
        raise ModelFormatError(f"{path!r}: not a valid path (it holds a NUL byte)") from None
    special = special_file(path)
    if special is not None:
        raise ModelFormatError(f"{path}: is {special}, not a model file or folder; refused without reading it")
    if not os.access(path, os.R_OK):
        raise ModelFormatError(f"{path}: cannot be read (permission denied)")
