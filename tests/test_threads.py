"""Worker threads: the pool, cores_to_workers; the thread budget and the OpenMP wait policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training_standins import data  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
_SETTINGS = ("SEISWORK_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "LOCAL_WORLD_SIZE")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_shard_workers_leave_the_callers_thread_count_alone():
    from seiswork.threads import workers

    torch.set_num_threads(2)
    pool = workers(2)
    assert set(pool.map(lambda _: torch.get_num_threads(), range(4))) == {1}  # each shard on one core
    assert torch.get_num_threads() == 2


def test_cores_to_workers_holds_the_cores_and_restores_the_callers_threads():
    from seiswork.threads import cores_to_workers, width

    torch.set_num_threads(2)
    assert width() == 2
    with cores_to_workers() as held:
        assert held == 2 and width() == 2 and torch.get_num_threads() == 1
        with cores_to_workers(5) as inner:  # nested: the outer block's cores stay
            assert inner == 2 and width() == 2
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2 and width() == 2
    with pytest.raises(RuntimeError), cores_to_workers(3):
        assert width() == 3
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2 and width() == 2  # restored on an error too


def test_worker_pool_grows_and_never_shuts_down_under_a_caller():
    from seiswork.threads import workers

    two = workers(2)
    assert workers(1) is two  # a smaller request reuses the pool
    three = workers(3)
    assert three is not two
    assert two.submit(lambda: 7).result() == 7  # a caller still holding the old pool can go on submitting
    assert workers(2) is three
    assert set(three.map(lambda _: torch.get_num_threads(), range(6))) == {1}


# ------------------------------------------------------------------------------------ the thread budget
def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter, with this checkout importable and no thread setting but ``env``'s."""
    clean = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          check=True)


def test_budget_follows_a_restricted_affinity():
    """A process allowed one core (taskset, a container's share) works on one thread, whatever torch says."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs Linux and two usable cores")
    out = _python("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
                  "import torch; from seiswork.threads import budget\n"
                  "a = budget(); torch.set_num_threads(4); print(a, budget())")
    assert out.stdout.split() == ["1", "1"]


def test_budget_user_setting_wins(monkeypatch):
    from seiswork.threads import budget

    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(1)
    assert budget() == 1  # torch's count (torch.set_num_threads, OMP_NUM_THREADS) is a user setting too
    monkeypatch.setenv("SEISWORK_THREADS", "3")
    assert budget() == 3
    monkeypatch.setenv("SEISWORK_THREADS", "two")
    with pytest.raises(ValueError, match="SEISWORK_THREADS must be a whole number"):
        budget()


def test_torchrun_ranks_share_the_cores(monkeypatch):
    from seiswork.cluster import usable_cores
    from seiswork.threads import budget

    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(1)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert budget() == max(1, usable_cores() // 2)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # set for the launch: torch's count (1 here) stands
    assert budget() == 1


def test_sweep_and_crossval_tasks_get_their_share(monkeypatch):
    """map_tasks hands each task (and the notebook kernels it starts) the budget as SEISWORK_THREADS."""
    from seiswork.cluster import map_tasks
    from seiswork.threads import budget

    for name in _SETTINGS + ("MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(name, "9")
    torch.set_num_threads(2)
    seen = map_tasks(lambda: (budget(), torch.get_num_threads(), os.environ["OMP_NUM_THREADS"]), [()], threads=1)
    assert seen == [(1, 1, "1")]
    # the tasks ran in this process: its settings are back afterwards, not left for whatever runs next
    assert os.environ["SEISWORK_THREADS"] == os.environ["OMP_NUM_THREADS"] == "9" and torch.get_num_threads() == 2


def test_fit_runs_on_the_budget(monkeypatch, data):
    """SEISWORK_THREADS=1 on a 2-thread torch: fit's batches run on one thread, unsharded; torch's count after."""
    from seiswork.threads import width
    from tests.training_standins import run

    train, val = data
    torch.set_num_threads(2)
    monkeypatch.setenv("SEISWORK_THREADS", "1")
    seen = []
    run(train, val, epochs=1, batch_size=64, progress=lambda record: seen.append((torch.get_num_threads(), width())))
    assert seen == [(1, 1)] and torch.get_num_threads() == 2


def test_idle_openmp_threads_sleep_from_the_first_import():
    """``import seiswork`` sets OMP_WAIT_POLICY=PASSIVE before any seiswork module imports torch, so torch's
    OpenMP starts with it; a value the user set stays."""
    out = _python("import os, sys, seiswork; print('torch' in sys.modules, os.environ['OMP_WAIT_POLICY'])")
    assert out.stdout.split() == ["False", "PASSIVE"]
    out = _python("import os, seiswork; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="ACTIVE")
    assert out.stdout.strip() == "ACTIVE"
    # GNU OpenMP shows the setting it started with (other OpenMP runtimes print nothing: nothing to check)
    shown = _python("import seiswork.threads, torch; torch.ones(4).sum()", OMP_DISPLAY_ENV="TRUE").stderr
    if "OPENMP DISPLAY ENVIRONMENT" in shown:
        assert "OMP_WAIT_POLICY = 'PASSIVE'" in shown
