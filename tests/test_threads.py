"""Worker threads: the pool, cores_to_workers."""

from __future__ import annotations

import pytest
import torch


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
