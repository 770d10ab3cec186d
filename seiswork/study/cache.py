"""The run folder's preprocessed-data cache, fingerprinted by its inputs.

``preprocessed.npz`` is reused only when ``preprocessed.json`` beside it records the same fingerprint:
every input file (absolute path, size in bytes, modification time in ns; folders file by file; the
``<stem>.meta.csv`` beside a pickle) and every preprocessing parameter. Size and modification time, as
``make`` uses, rather than a content hash: hashing tens of GB on every notebook start would cost minutes.
A cache built from other data or settings is rebuilt, never silently reused.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

from seiswork.paths import atomic_write

__all__ = ["FINGERPRINT_FORMAT", "input_files", "fingerprint", "differences", "read_fingerprint",
           "write_fingerprint"]

FINGERPRINT_FORMAT = "seiswork.preprocessed-inputs/1"


def input_files(paths: list[Path]) -> list[Path]:
    """Every file that ``paths`` name, in a stable order: files, folders walked, glob patterns expanded."""
    found: list[Path] = []
    for path in paths:
        text = str(path)
        if glob.has_magic(text):
            found.extend(Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file())
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        else:
            found.append(path)
            sidecar = path.with_name(path.stem + ".meta.csv")
            if sidecar.is_file():
                found.append(sidecar)
    return found


def fingerprint(paths: list[Path], parameters: dict[str, Any]) -> dict[str, Any]:
    """What a cache was built from: ``files`` ``[path, bytes, mtime_ns]`` (missing files as ``None``) and
    ``parameters``. JSON-ready."""
    files = []
    for path in input_files([p.resolve() for p in paths]):
        try:
            stat = path.stat()
            files.append([str(path), stat.st_size, stat.st_mtime_ns])
        except FileNotFoundError:
            files.append([str(path), None, None])
    return {"format": FINGERPRINT_FORMAT, "files": files, "parameters": parameters}


def differences(held: dict[str, Any] | None, asked: dict[str, Any]) -> list[str]:
    """Human-readable reasons why a cache with fingerprint ``held`` does not serve ``asked`` (empty: it does)."""
    if held is None:
        return ["no record of the inputs it was built from"]
    if held.get("format") != asked["format"]:
        return [f"fingerprint format {held.get('format')!r} (now {asked['format']!r})"]
    reasons = []
    held_files = {f[0]: f[1:] for f in held.get("files", [])}
    asked_files = {f[0]: f[1:] for f in asked["files"]}
    if set(held_files) != set(asked_files):
        added, removed = sorted(set(asked_files) - set(held_files)), sorted(set(held_files) - set(asked_files))
        reasons.append(f"data files differ (now also {added or 'nothing'}; no longer {removed or 'nothing'})")
    else:
        changed = [name for name in asked_files if list(held_files[name]) != list(asked_files[name])]
        if changed:
            reasons.append(f"data files changed since (size or modification time): {changed}")
    for key, value in asked["parameters"].items():
        if held.get("parameters", {}).get(key) != value:
            reasons.append(f"{key}={held.get('parameters', {}).get(key)!r} (asked {value!r})")
    return reasons


def read_fingerprint(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_fingerprint(path: Path, record: dict[str, Any]) -> None:
    with atomic_write(path, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
