"""Concurrent runs: does a training share the cores fairly with its neighbours?

Each measurement is a notebook-default training (the built-in data, ``Study()`` defaults, the CPU) in a
fresh process, timed per epoch by ``fit`` (its history's ``seconds``); an epoch's figure is the best of the
epochs after the first (warm-up). Scenarios, in one run, side by side:

- *alone*: one training on an otherwise idle machine;
- *busy neighbour*: the same beside one CPU-bound process (``while True: pass``); ratio to alone, target
  <= 2.2 (a fair share of 2 cores among 3 threads of work is 1.5-2x);
- *two at once*: two trainings started together; throughput of both together against running them one
  after the other (``2 * alone / concurrent epoch``), target >= 0.9;
- *sweep* (``--sweep``): a 2-run ``seiswork sweep`` of tiny runs on a 2-worker local Dask cluster against
  the same sweep run sequentially (wall time), target: not slower.

``--policies new,old`` runs each scenario under both, interleaved, for a side-by-side comparison: *new* is
this checkout; *old* is the checkout at ``--old-root`` (e.g. ``git archive 1cf3fd1 | tar -x -C /tmp/old``:
the code before thread budgets, with GNU OpenMP's default spinning); *spin* is this checkout with spinning
idle threads (``GOMP_SPINCOUNT=300000``, libgomp's default, which overrides the wait policy). Every scenario is repeated ``--repeats`` times and the
best kept, with each repetition printed (the machine may be shared with other work).

Usage: ``python benchmarks/bench_contention.py`` (a few minutes on 2 cores);
``python benchmarks/bench_contention.py --epochs 4 --repeats 1 --policies new`` (quick).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


# ----------------------------------------------------------------------------- one training (child process)
def train_once(epochs: int) -> list[float]:
    """Epoch times (s) of a notebook-default training of ``epochs`` epochs on the built-in data (the checkout
    on ``PYTHONPATH``)."""
    from seiswork import study as steps
    from seiswork.study import Study

    with tempfile.TemporaryDirectory() as tmp:
        study = Study(run_dir=tmp, epochs=epochs, patience=0, device="cpu")
        adapter = steps.prepare_data(study, verbose=False)
        pipelines = steps.make_pipelines(study, adapter)
        seq_len, features = steps.input_shape(pipelines[1], adapter.dataset("train"))
        model = steps.make_model(study, features, len(adapter.classes))
        result = steps.train_model(study, model, adapter, pipelines, out=Path(tmp) / "model")
        return [float(s) for s in result.history["seconds"]]


# ----------------------------------------------------------------------------- scenarios (parent process)
POLICIES = {"new": {}, "old": {}, "spin": {"GOMP_SPINCOUNT": "300000"}}
OLD_ROOT: Path | None = None  # --old-root


def _env(policy: str) -> dict[str, str]:
    drop = ("SEISWORK_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(OLD_ROOT if policy == "old" else ROOT)
    env.update(POLICIES[policy])
    return env


def _start(policy: str, epochs: int) -> subprocess.Popen:
    return subprocess.Popen([PY, __file__, "--child", str(epochs)], env=_env(policy), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def _result(proc: subprocess.Popen) -> list[float]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"training process failed (exit {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def _epoch(seconds: list[float]) -> float:
    """An epoch's time: the best after the first (warm-up)."""
    return min(seconds[1:] or seconds)


def alone(policy: str, epochs: int) -> float:
    return _epoch(_result(_start(policy, epochs)))


def beside_busy(policy: str, epochs: int) -> float:
    busy = subprocess.Popen([PY, "-c", "while True: pass"])
    try:
        return _epoch(_result(_start(policy, epochs)))
    finally:
        busy.kill()
        busy.wait()


def two_at_once(policy: str, epochs: int) -> float:
    """The mean of the two trainings' epoch times (each the median after the first: both run side by side
    throughout only in the middle epochs)."""
    procs = [_start(policy, epochs) for _ in range(2)]
    times = [sorted(_result(p)[1:]) for p in procs]
    return sum(t[len(t) // 2] for t in times) / 2


def sweep(workers: int | None, runs: int = 2) -> float:
    """Wall time (s) of a ``seiswork sweep`` over ``runs`` tiny runs (notebooks 01 and 04, 4 epochs)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "sweep.yaml"
        spec.write_text("parameters: {epochs: 4}\n"
                        f"grid: {{seed: {list(range(runs))}}}\n"
                        "only: ['01', '04']\n")
        cmd = [PY, "-m", "seiswork", "sweep", str(spec), "--out", str(Path(tmp) / "out")]
        if workers:
            cmd += ["--workers", str(workers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=_env("new"), check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def _best(fn, repeats: int, *args) -> tuple[float, list[float]]:
    values = [fn(*args) for _ in range(repeats)]
    return min(values), values


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6, help="epochs per training (default 6; the first is warm-up)")
    p.add_argument("--repeats", type=int, default=2, help="repetitions of each scenario, best kept (default 2)")
    p.add_argument("--policies", default="new,old", help="what to compare, of new, old, spin (default new,old)")
    p.add_argument("--old-root", type=Path, default=None, help="checkout of the old code (for the old policy)")
    p.add_argument("--sweep", action="store_true", help="also time a 2-worker Dask sweep against a sequential one")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        print(json.dumps(train_once(args.child)), flush=True)
        return 0
    global OLD_ROOT
    OLD_ROOT = args.old_root
    policies = [s.strip() for s in args.policies.split(",") if s.strip()]
    if "old" in policies and (OLD_ROOT is None or not (OLD_ROOT / "seiswork").is_dir()):
        raise SystemExit("--policies old needs --old-root: a checkout of the old code (a folder with seiswork/)")
    for policy in policies:
        if policy not in POLICIES:
            raise SystemExit(f"--policies: unknown policy {policy!r}; use a list of {', '.join(POLICIES)}")

    print(f"{os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable; notebook-default training, "
          f"{args.epochs} epochs, best of {args.repeats}")
    results: dict[str, dict[str, tuple[float, list[float]]]] = {policy: {} for policy in policies}
    for repeat in range(args.repeats):  # policies interleaved: drift on a shared machine hits both alike
        for policy in policies:
            for name, fn in (("alone", alone), ("busy", beside_busy), ("two", two_at_once)):
                value = fn(policy, args.epochs)
                best, values = results[policy].get(name, (float("inf"), []))
                results[policy][name] = (min(best, value), values + [value])
    for policy in policies:
        r = results[policy]
        spread = lambda name: ", ".join(f"{v:.2f}" for v in r[name][1])  # noqa: E731
        a, b, c = r["alone"][0], r["busy"][0], r["two"][0]
        print(f"[{policy}] alone epoch {a:.2f} s  ({spread('alone')})")
        print(f"[{policy}] beside a busy process {b:.2f} s = {b / a:.2f}x alone  ({spread('busy')})  target <= 2.2x")
        print(f"[{policy}] two at once {c:.2f} s per epoch each: together {2 * a / c:.2f}x the throughput of one "
              f"after the other  ({spread('two')})  target >= 0.9x")
    if args.sweep:
        seq, seqs = _best(sweep, args.repeats, None)
        par, pars = _best(sweep, args.repeats, 2)
        print(f"sweep of 2 tiny runs: sequential {seq:.1f} s ({', '.join(f'{v:.1f}' for v in seqs)}), "
              f"2 Dask workers {par:.1f} s ({', '.join(f'{v:.1f}' for v in pars)}) = {par / seq:.2f}x  "
              "target <= 1.0x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
