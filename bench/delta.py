"""The deploy delta of a rebuild: which files of the built site an upload has to send again.

A host that takes the changed files only (``rclone sync --checksum``, ``aws s3 sync``) uploads
what the two builds' manifests list with another SHA-256 or list only in the new one, and
deletes what only the old one lists. The manifest in bins (``SHA256SUMS`` and ``sums/``) lists
every file with its SHA-256, so two snapshots of it are all that is compared: no file is read.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sitegen.fs.staging import listed_files

__all__ = ["DeployDelta", "SiteSize", "deploy_delta", "site_size", "snapshot"]


@dataclass(frozen=True, slots=True)
class DeployDelta:
    files: int
    """Files to upload: listed with another SHA-256, or new."""
    bytes: int
    """Their size in the new build."""
    removed: int
    """Files the old build listed and the new one does not (deleted on the host)."""
    by_area: dict[str, int]
    """Files to upload by their first path component (``pith``, ``search``, ``sums``, ...)."""

    def as_json(self) -> dict[str, object]:
        return {
            "delta_files": self.files,
            "delta_mb": round(self.bytes / 2**20, 3),
            "delta_removed": self.removed,
            "delta_by_area": dict(sorted(self.by_area.items())),
        }


def snapshot(site: Path) -> dict[str, str]:
    """Every file of the built site with its SHA-256: the manifest's lines and ``SHA256SUMS`` itself."""
    files = listed_files(site)
    files["SHA256SUMS"] = hashlib.sha256((site / "SHA256SUMS").read_bytes()).hexdigest()
    return files


def deploy_delta(before: dict[str, str], site: Path) -> DeployDelta:
    """What changed between the manifest ``before`` and the site built since at ``site``."""
    after = snapshot(site)
    changed = sorted(path for path, digest in after.items() if before.get(path) != digest)
    return DeployDelta(
        files=len(changed),
        bytes=sum((site / path).stat().st_size for path in changed),
        removed=sum(1 for path in before if path not in after),
        by_area=dict(Counter(path.split("/", 1)[0] for path in changed)),
    )


@dataclass(frozen=True, slots=True)
class SiteSize:
    """What a static host counts of a built site: its files, their bytes and the fullest directories."""

    files: int
    bytes: int
    widest_dir: str
    widest_entries: int
    """Entries (files and directories) of the directory with the most."""
    most_files_dir: str
    most_files: int
    """Files (not directories) directly in the directory with the most."""

    def as_json(self) -> dict[str, object]:
        return {
            "site_files": self.files,
            "site_mb": round(self.bytes / 2**20, 1),
            "widest_dir": self.widest_dir,
            "widest_dir_entries": self.widest_entries,
            "most_files_dir": self.most_files_dir,
            "most_files_in_a_dir": self.most_files,
        }


def site_size(site: Path) -> SiteSize:
    """Count the built site at ``site`` as a host would (its hidden work files left out)."""
    files = size = 0
    widest: tuple[int, str] = (0, "")
    most: tuple[int, str] = (0, "")
    for directory, dirs, names in os.walk(site):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        files += len(names)
        size += sum(os.lstat(os.path.join(directory, name)).st_size for name in names)
        here = os.path.relpath(directory, site)
        widest = max(widest, (len(dirs) + len(names), here))
        most = max(most, (len(names), here))
    return SiteSize(
        files=files,
        bytes=size,
        widest_dir=widest[1],
        widest_entries=widest[0],
        most_files_dir=most[1],
        most_files=most[0],
    )
