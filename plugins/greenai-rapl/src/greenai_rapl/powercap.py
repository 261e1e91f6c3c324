"""Finding RAPL zones in a powercap tree and naming their domains.

Every zone appears twice in sysfs: as a symlink directly under ``/sys/class/powercap``
and as a folder nested in its parent zone. We look at both (a tree may lack the flat
links) and keep each zone once, by its resolved path. ``intel-rapl-mmio`` zones expose
the same package counter through another interface, so they are used only for a domain
that no ``intel-rapl`` zone provides.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path

ZONE_RE = re.compile(r"^(intel-rapl|intel-rapl-mmio)((?::\d+)+)$")
#: Kinds of RAPL domain and whether they add into the total. core and uncore are parts of
#: their package; psys covers the whole platform, so it counts only where it stands alone.
PACKAGE, CORE, UNCORE, DRAM, PSYS = "package", "core", "uncore", "dram", "psys"
NESTED_IN_PACKAGE = {CORE, UNCORE}
COMPONENT = {PACKAGE: "cpu", CORE: "cpu", UNCORE: "cpu", DRAM: "dram", PSYS: "platform"}
TOTAL_RULE = (
    "total = packages + DRAM; core and uncore are inside their package and psys covers the whole "
    "platform, so they are reported but not added (psys is added only where no package domain exists)"
)


@dataclass(frozen=True)
class Zone:
    zone_id: str  # intel-rapl:0:1
    path: Path
    kind: str  # package, core, uncore, dram, psys, or the raw name of an unknown domain
    domain: str  # package-0, core-0, dram-1, psys
    max_range_uj: int
    max_power_w: float | None
    mmio: bool


#: The file-open boundary (tests inject errors here when running as root).
_open = os.open


#: The longest value a powercap file holds (a 64-bit counter, a zone name) with room to spare.
MAX_VALUE_BYTES = 64
_INT_RE = re.compile(r"-?[0-9]{1,40}")
#: A zone name as the kernel writes them (package-0, core, dram, psys...); anything else is skipped.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
#: A power limit above this is no real zone's (a hostile or broken tree): ignored.
MAX_LIMIT_W = 10_000.0


def read_text(path: Path) -> str:
    """Read a small sysfs file (one open, one read: fast, and never a stale descriptor).

    Opened without blocking and refused unless it is a regular file (sysfs attributes are):
    a FIFO or a device swapped in for ``energy_uj`` must not hang or flood a read. A value
    longer than any powercap value is refused rather than cut (a cut number would be wrong).
    """
    fd = _open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{path}: not a regular file")
        data = os.read(fd, MAX_VALUE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_VALUE_BYTES:
        raise ValueError(f"{path}: longer than {MAX_VALUE_BYTES} bytes, not a powercap value")
    return data.decode("ascii", "replace").strip()


def read_int(path: Path) -> int:
    """A decimal integer exactly as the kernel writes it (no ``+``, ``_``, spaces inside or exponent)."""
    text = read_text(path)
    if not _INT_RE.fullmatch(text):
        raise ValueError(f"{path}: expected an integer, found {text[:40]!r}")
    return int(text)


def _candidates(root: Path) -> list[Path]:
    seen: dict[str, Path] = {}

    def visit(folder: Path, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            try:
                is_zone = bool(ZONE_RE.match(entry.name)) and entry.is_dir()
            except OSError:  # a symlink loop, a link into an unreadable place: not a zone
                continue
            if is_zone:
                real = os.path.realpath(entry.path)
                seen.setdefault(real, Path(entry.path))
                if depth < 3:
                    visit(Path(entry.path), depth + 1)

    visit(root, 0)
    return sorted(seen.values(), key=lambda p: (_id_parts(p.name), p.name.startswith("intel-rapl-mmio")))


def _id_parts(zone_id: str) -> list[int]:
    """intel-rapl:1:0 -> [1, 0]"""
    m = ZONE_RE.match(zone_id)
    return [int(x) for x in m.group(2)[1:].split(":")] if m else []


def _socket_of(parts: list[int], parent_name: str | None) -> int:
    if parent_name:
        m = re.fullmatch(r"package-(\d+)", parent_name)
        if m:
            return int(m.group(1))
    return parts[0]


def discover(root: Path) -> tuple[list[Zone], list[str]]:
    """The readable zones under ``root`` and a warning for each zone skipped."""
    zones: list[Zone] = []
    skipped: list[str] = []
    names: dict[str, str] = {}
    for path in _candidates(root):
        m = ZONE_RE.match(path.name)
        assert m is not None
        parts = _id_parts(path.name)
        try:
            raw_name = read_text(path / "name")
            if not NAME_RE.fullmatch(raw_name):  # it becomes a domain name, shown in tables and JSON keys
                raise ValueError(f"{path / 'name'}: not a RAPL zone name: {raw_name[:40]!r}")
            max_range = read_int(path / "max_energy_range_uj")
            if max_range <= 0:
                raise ValueError(f"{path / 'max_energy_range_uj'}: range must be positive, found {max_range}")
        except FileNotFoundError as exc:
            skipped.append(f"rapl: zone {path.name} skipped: missing {Path(exc.filename or '').name or 'file'}")
            continue
        except (OSError, ValueError) as exc:
            skipped.append(f"rapl: zone {path.name} skipped: {exc}")
            continue
        names[path.name] = raw_name
        parent_id = m.group(1) + ":" + ":".join(map(str, parts[:-1])) if len(parts) > 1 else None
        kind = raw_name.split("-")[0] if raw_name.startswith("package-") else raw_name
        if kind == PACKAGE:
            domain = raw_name
        elif kind == PSYS:
            domain = f"psys-{parts[0]}"  # renamed to plain "psys" below when it is the only one
        else:
            socket = _socket_of(parts, names.get(parent_id) if parent_id else None)
            domain = f"{kind}-{socket}"
        max_power = None
        for constraint in (0, 1):  # long-term (PL1) and short-term (PL2) limits: the higher one
            try:
                uw = read_int(path / f"constraint_{constraint}_max_power_uw")
            except (OSError, ValueError):
                continue
            if 0 < uw <= MAX_LIMIT_W * 1e6:  # beyond: no real zone's limit, the default applies
                max_power = max(max_power or 0.0, uw / 1e6)
        zones.append(Zone(path.name, path, kind, domain, max_range, max_power, m.group(1) == "intel-rapl-mmio"))
    if sum(z.kind == PSYS for z in zones) == 1:
        zones = [replace(z, domain=PSYS) if z.kind == PSYS else z for z in zones]
    # Keep an mmio zone only for a domain no MSR zone provides (else it double counts).
    msr_domains = {z.domain for z in zones if not z.mmio}
    kept = [z for z in zones if not z.mmio or z.domain not in msr_domains]
    seen_domains: set[str] = set()
    unique = []
    for z in kept:
        if z.domain in seen_domains:
            skipped.append(f"rapl: zone {z.zone_id} skipped: domain {z.domain} already read from another zone")
            continue
        seen_domains.add(z.domain)
        unique.append(z)
    return unique, skipped


def counted(zone: Zone, zones: list[Zone]) -> bool:
    """The total rule (TOTAL_RULE) for one zone."""
    if zone.kind in (PACKAGE, DRAM):
        return True
    if zone.kind == PSYS:
        return not any(z.kind == PACKAGE for z in zones)
    return False
