"""Code version recorded with every model version: package version plus git commit when known."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path


@cache
def code_version() -> dict[str, str | None]:
    try:
        pkg = metadata.version("anomaly-platform")
    except metadata.PackageNotFoundError:
        pkg = None
    commit = None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=False)
        commit = out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):  # no git here: the package version still says a lot
        commit = None
    return {"package": pkg, "git_commit": commit}
