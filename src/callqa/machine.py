"""What this machine lets a batch use: cores and memory, a container's limits included.

``os.cpu_count()`` and /proc/meminfo describe the host: in a container given
2 CPUs and 4 GB of a 64-core node they say 64 cores and the node's memory, and
a worker per core would start 64 models. The limits that bind are read here:
the CPUs this process may run on (its affinity), the cgroup's CPU quota
(cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``) and its memory limit
(``memory.max`` / ``memory.limit_in_bytes``, less what the group uses).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["usable_cores", "available_memory"]

CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cores(root: Path = CGROUP_ROOT) -> int:
    """Cores this process can keep busy: its CPU affinity, capped by the cgroup's CPU quota; at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = _cpu_quota(root)
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def available_memory(root: Path = CGROUP_ROOT, meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Bytes a new process can have without swapping: MemAvailable, capped by the cgroup's memory limit less its
    use; None when neither is known."""
    limits = [m for m in (_mem_available(meminfo), _cgroup_memory_left(root)) if m is not None]
    if limits:
        return min(limits)
    try:  # elsewhere: free pages only, the cautious figure
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cpu_quota(root: Path) -> float | None:
    """CPUs' worth of time the cgroup may use (1.5 = one and a half cores), None when unlimited or unknown."""
    v2 = _read(root / "cpu.max")  # "max 100000" or "150000 100000"
    if v2:
        quota, _, period = v2.partition(" ")
        if quota != "max" and quota.isdigit() and period.isdigit() and int(period) > 0:
            return int(quota) / int(period)
        return None
    quota, period = _read(root / "cpu" / "cpu.cfs_quota_us"), _read(root / "cpu" / "cpu.cfs_period_us")
    if quota and period and quota.lstrip("-").isdigit() and period.isdigit() and int(quota) > 0 and int(period) > 0:
        return int(quota) / int(period)
    return None


def _cgroup_memory_left(root: Path) -> int | None:
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit, usage = _read(root / limit_file), _read(root / usage_file)
        # v1 says "no limit" with a huge number (2^63 rounded to pages): anything over 2^60 is no limit.
        if limit and limit.isdigit() and int(limit) < 2**60:
            return max(0, int(limit) - (int(usage) if usage and usage.isdigit() else 0))
    return None


def _mem_available(meminfo: Path) -> int | None:
    text = _read(meminfo)
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None
