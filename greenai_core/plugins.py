"""The plugin manager: entry-point discovery, guarded loading and the two registries.

Plugins are loaded one at a time on first use (never at ``import greenai_core``). A plugin
that fails to import, misspells a hook or raises in one is recorded with its error and
skipped, so every other plugin keeps working; ``GREENAI_STRICT_PLUGINS=1`` turns that into
a ``PluginError`` (CI runs strict). ``GREENAI_DISABLE_PLUGINS=a,b`` skips plugins by
entry-point name. The core's own defaults are registered through the same path.

Entry points load sorted by name, so which plugin wins a name clash never depends on the
order of ``sys.path`` or of the file system. Faults after loading (a backend whose
constructor or probe raises, a format whose ``sniff`` raises) are recorded against the
plugin that owns them, bounded and deduplicated, and shown by ``greenai plugins``; the
thing that failed is skipped and everything else keeps working.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import pluggy

from greenai_core import hookspecs
from greenai_core.energy.backend import EnergyBackend, ProbeResult
from greenai_core.energy.probing import probe_backend
from greenai_core.entry_points import EntryPoint, entry_points
from greenai_core.errors import BackendUnavailableError, GreenAIError, PluginError, UsageError, one_line
from greenai_core.models.format import ModelFormat

ENTRY_POINT_GROUP = "greenai"
STRICT_ENV = "GREENAI_STRICT_PLUGINS"
DISABLE_ENV = "GREENAI_DISABLE_PLUGINS"
#: Modules of the core registered like any plugin (name -> module path).
BUILTIN_PLUGINS = {"estimate": "greenai_core.energy.estimate"}
#: Errors kept per plugin after loading: enough to diagnose, never a growing store.
MAX_RECORDED_ERRORS = 10


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class PluginRecord:
    """What ``greenai plugins`` shows about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"  # loaded | error | disabled
    error: str | None = None
    builtin: bool = False
    formats: list[str] = field(default_factory=list)
    backends: list[str] = field(default_factory=list)
    #: Faults seen after loading (a backend that failed to start or probe, a sniff that
    #: raised); the plugin stays loaded and only the failing part is skipped.
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Registry:
    """Holds the loaded plugins, their model formats and their energy backends."""

    def __init__(
        self,
        *,
        strict: bool | None = None,
        disabled: Iterable[str] | None = None,
        entry_points: bool = True,
    ) -> None:
        self.strict = _env_flag(STRICT_ENV) if strict is None else strict
        if disabled is None:
            disabled = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
        self.disabled = set(disabled)
        self._use_entry_points = entry_points
        self._lock = threading.RLock()
        self._loaded = False
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._records: dict[str, PluginRecord] = {}
        self._refused: list[PluginRecord] = []  # entry points whose name was already taken
        self._formats: dict[str, ModelFormat] = {}
        self._format_owner: dict[str, str] = {}
        self._backend_classes: dict[str, type[EnergyBackend]] = {}
        self._backend_owner: dict[str, str] = {}
        self._backends: dict[str, EnergyBackend] = {}
        self._backend_failures: dict[str, str] = {}  # name -> why its constructor failed
        self._references: dict[str, Any] = {}  # reference architectures (greenai_core.grading.architectures)
        self._reference_owner: dict[str, str] = {}

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> Registry:
        """Discover and load every plugin once; later calls return at once."""
        if self._loaded:
            return self
        with self._lock:
            if self._loaded:
                return self
            import importlib

            for name, module in BUILTIN_PLUGINS.items():
                self._load_one(PluginRecord(name, "greenai-core", _core_version(), builtin=True),
                               functools.partial(importlib.import_module, module))
            if self._use_entry_points:
                for ep in _entry_points():
                    record = PluginRecord(ep.name, ep.dist_name, ep.dist_version)
                    if ep.name in self.disabled:
                        record.status = "disabled"
                        self._records[ep.name] = record
                        continue
                    self._load_one(record, ep.load)
            self._loaded = True
        return self

    def add_plugin(self, plugin: object, name: str | None = None) -> PluginRecord:
        """Register a plugin object (a module or any object with hookimpls) directly."""
        self.load()
        record = PluginRecord(name or getattr(plugin, "__name__", None) or repr(plugin))
        with self._lock:
            self._load_one(record, lambda: plugin)
        return record

    def _load_one(self, record: PluginRecord, load: Callable[[], object]) -> None:
        first = self._records.get(record.name)
        if first is not None:
            self._refused.append(record)
            other = " ".join(x for x in (first.distribution, first.version) if x) or "another plugin"
            mine = " ".join(x for x in (record.distribution, record.version) if x) or "this one"
            self._fail(record, f"the name is already taken by {other}; {mine} is not loaded")
            return
        self._records[record.name] = record
        try:
            plugin = load()
        except Exception as exc:
            self._fail(record, f"failed to import: {type(exc).__name__}: {one_line(exc)}")
            return
        try:
            self._pm.register(plugin, name=record.name)
            self._pm.check_pending()  # catches misspelt hook names
        except Exception as exc:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            self._fail(record, f"invalid plugin: {one_line(exc)}")
            return
        formats: list[ModelFormat] = []
        backends: list[type[EnergyBackend]] = []
        references: list[Any] = []
        try:
            self._call_own_hooks(plugin, "register_model_formats", self._format_validator(record, formats))
            self._call_own_hooks(plugin, "register_energy_backends", self._backend_validator(record, backends))
            self._call_own_hooks(plugin, "register_reference_models", self._reference_validator(references))
        except Exception as exc:
            self._pm.unregister(plugin, name=record.name)
            self._fail(record, str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {one_line(exc)}")
            return
        # Commit only once every hook of the plugin succeeded: no half-registered plugin.
        for fmt in formats:
            self._formats[fmt.name] = fmt
            self._format_owner[fmt.name] = record.name
            record.formats.append(fmt.name)
        for cls in backends:
            self._backend_classes[cls.name] = cls
            self._backend_owner[cls.name] = record.name
            record.backends.append(cls.name)
        for ref in references:
            self._references[ref.name] = ref
            self._reference_owner[ref.name] = record.name

    def _call_own_hooks(self, plugin: object, hook_name: str, register: Callable[[Any], None]) -> None:
        caller = getattr(self._pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                kwargs = {"register": register}
                impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})

    def _fail(self, record: PluginRecord, message: str) -> None:
        record.status = "error"
        record.error = message
        if self.strict:
            raise PluginError(f"plugin {record.name!r}: {message} ({STRICT_ENV} is set)")

    # -- register() callbacks: validate what plugins hand over ------------------------------
    def _format_validator(self, record: PluginRecord, out: list[ModelFormat]) -> Callable[[Any], None]:
        def register(fmt: Any) -> None:
            if not isinstance(fmt, ModelFormat):
                raise PluginError(f"registered {fmt!r}, which is not a ModelFormat instance")
            if not isinstance(fmt.name, str) or not fmt.name:
                raise PluginError("registered a model format without a name")
            if fmt.name in {f.name for f in out}:
                raise PluginError(f"registered model format {fmt.name!r} twice")
            if fmt.name in self._formats:
                owner = self._format_owner[fmt.name]
                raise PluginError(f"model format {fmt.name!r} is already registered by plugin {owner!r}")
            out.append(fmt)

        return register

    def _backend_validator(self, record: PluginRecord, out: list[type[EnergyBackend]]) -> Callable[[Any], None]:
        def register(cls: Any) -> None:
            if not (isinstance(cls, type) and issubclass(cls, EnergyBackend)):
                raise PluginError(f"registered {cls!r}, which is not an EnergyBackend subclass")
            name = getattr(cls, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"registered backend {cls.__name__} without a name")
            if name in {c.name for c in out}:
                raise PluginError(f"registered energy backend {name!r} twice")
            if name in self._backend_classes:
                owner = self._backend_owner[name]
                raise PluginError(f"energy backend {name!r} is already registered by plugin {owner!r}")
            out.append(cls)

        return register

    def _reference_validator(self, out: list[Any]) -> Callable[[Any], None]:
        from greenai_core.grading.architectures import ReferenceModel

        def register(ref: Any) -> None:
            if not isinstance(ref, ReferenceModel):
                raise PluginError(f"registered {ref!r:.80}, which is not a ReferenceModel")
            if not isinstance(ref.name, str) or not ref.name or not callable(ref.build):
                raise PluginError("registered a reference model without a name or a build function")
            if isinstance(ref.parameters, bool) or not isinstance(ref.parameters, int) or ref.parameters < 0:
                raise PluginError(f"reference model {ref.name!r}: parameters must be a count, not {ref.parameters!r}")
            if ref.name in {r.name for r in out} or ref.name in self._references:
                owner = self._reference_owner.get(ref.name, "this plugin")
                raise PluginError(f"reference model {ref.name!r} is already registered by {owner!r}")
            out.append(ref)

        return register

    # -- queries ---------------------------------------------------------------------------
    def plugins(self) -> list[PluginRecord]:
        """Every plugin in load order, then those refused because their name was taken."""
        self.load()
        with self._lock:
            return [*self._records.values(), *self._refused]

    def formats(self) -> dict[str, ModelFormat]:
        return dict(self.load()._formats)

    def format_owner(self, name: str) -> str | None:
        return self.load()._format_owner.get(name)

    def reference_models(self) -> dict[str, Any]:
        """Every plugin's reference architectures (``ReferenceModel``), by name, in load order."""
        return dict(self.load()._references)

    def reference_owner(self, name: str) -> str | None:
        return self.load()._reference_owner.get(name)

    def backend_names(self) -> list[str]:
        return list(self.load()._backend_classes)

    def backend_owner(self, name: str) -> str | None:
        return self.load()._backend_owner.get(name)

    def backend_class(self, name: str) -> type[EnergyBackend]:
        """The registered class of a backend (no instance is created); ``UsageError`` if unknown."""
        cls = self.load()._backend_classes.get(name)
        if cls is None:
            known = ", ".join(sorted(self._backend_classes)) or "none"
            raise UsageError(f"unknown energy backend {name!r} (installed: {known})")
        return cls

    def backend(self, name: str) -> EnergyBackend:
        """The shared default-configured instance of a backend (created on first ask).

        A constructor that raises is recorded against the owning plugin and, now and on every
        later ask, raised as ``BackendUnavailableError`` (a ``GreenAIError``) so that callers
        can skip the backend; an unknown name is a ``UsageError``.
        """
        cls = self.backend_class(name)
        with self._lock:
            if name in self._backends:
                return self._backends[name]
            failure = self._backend_failures.get(name)
            if failure is None:
                try:
                    self._backends[name] = cls()
                    return self._backends[name]
                except Exception as exc:  # a third-party constructor: contain whatever it raises
                    failure = f"failed to start: {_describe_error(exc)}"
                    self._backend_failures[name] = failure
                    self._record_error(self._backend_owner.get(name), f"energy backend {name!r} {failure}")
            raise BackendUnavailableError(name, failure)

    def probe(self, name: str) -> ProbeResult:
        """The backend's probe; one that cannot be created or whose probe raises reads as unavailable.

        Such failures are also recorded against the owning plugin (``greenai plugins`` shows them).
        """
        try:
            backend = self.backend(name)
        except BackendUnavailableError as exc:
            return ProbeResult.unavailable(exc.reason)
        try:
            result = probe_backend(backend)  # bounded in time: a wedged driver must not hang `greenai plugins`
        except Exception as exc:  # a probe must answer, not raise; record it as the reason
            reason = f"probe failed: {_describe_error(exc)}"
        else:
            if isinstance(result, ProbeResult):
                return result
            reason = f"probe returned {type(result).__name__}, not a ProbeResult"
        self._record_error(self._backend_owner.get(name), f"energy backend {name!r}: {reason}")
        return ProbeResult.unavailable(reason)

    # -- faults after loading ----------------------------------------------------------------
    def record_format_error(self, format_name: str, message: str) -> None:
        """Record that model format ``format_name`` failed (e.g. its ``sniff`` raised).

        Kept against the owning plugin (bounded, deduplicated) and shown by ``greenai plugins``;
        the plugin stays loaded. An unknown format name is ignored.
        """
        flat = " ".join(message.split())[:300]  # one line, bounded: a plugin's message can be anything
        self._record_error(self.format_owner(format_name), f"model format {format_name!r}: {flat}")

    def _record_error(self, plugin_name: str | None, message: str) -> None:
        if plugin_name is None:
            return
        with self._lock:
            record = self._records.get(plugin_name)
            if record is None or message in record.errors:
                return
            if len(record.errors) < MAX_RECORDED_ERRORS - 1:
                record.errors.append(message)
            elif len(record.errors) == MAX_RECORDED_ERRORS - 1:
                record.errors.append("further errors were not kept")


def _describe_error(exc: BaseException) -> str:
    """Our own errors speak for themselves; anything else says its type."""
    return one_line(exc) if isinstance(exc, GreenAIError) else f"{type(exc).__name__}: {one_line(exc)}"


def _entry_points() -> list[EntryPoint]:
    found: list[EntryPoint] = []
    seen: set[tuple[str, str]] = set()
    for ep in entry_points(ENTRY_POINT_GROUP):
        if (ep.name, ep.value) not in seen:  # the same plugin under two distribution names
            seen.add((ep.name, ep.value))
            found.append(ep)
    # Sorted, so that a clash is won by the same plugin whatever the order of sys.path.
    return sorted(found, key=lambda ep: (ep.name, ep.dist_name or "", ep.value))


def _core_version() -> str:
    from greenai_core import __version__

    return __version__


_REGISTRY: Registry | None = None
_REGISTRY_LOCK = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                _REGISTRY = Registry()
    return _REGISTRY.load()


def set_registry(registry: Registry | None) -> None:
    """Replace (or with ``None`` forget) the process-wide registry; for tests and embedding."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        _REGISTRY = registry
    from greenai_core.energy import selection

    selection.clear_cache()
