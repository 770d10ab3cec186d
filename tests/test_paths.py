"""Atomic writes: all or nothing, ordinary permissions, no overwrite unless asked."""

from __future__ import annotations

import os
import stat

import pytest

from seiswork.paths import atomic_path, atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as f:
            f.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temp file left behind
    with atomic_write(target, "w") as f:
        f.write("new")
    assert target.read_text() == "new"


def test_written_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.txt", "w") as f:
            f.write("x")
        with atomic_path(tmp_path / "b.npz") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(mask)
    for name in ("a.txt", "b.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_no_overwrite_unless_asked(tmp_path):
    target = tmp_path / "keep.npz"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="keep.npz already exists"):
        with atomic_path(target, overwrite=False):
            pass
    assert target.read_bytes() == b"mine"
