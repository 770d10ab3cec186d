"""Headless runs of the notebook sequence (papermill), parameter sweeps, and the command line.

A run folder holds everything one study produced::

    runs/20261126-181500/
        parameters.yaml          the parameters each notebook ran with
        notebooks/01_load_preprocess.ipynb ...   executed notebooks (kept even when one fails)
        preprocessed.npz         the preprocessed arrays and split (written by 01)
        augmentation.json        the augmentation pipeline used for training (written by 03)
        lstm/, lstm_attention/   best.pt, last.pt, history.csv, metrics.json (written by 04, 05)
        figures/*.png
        metrics.json             test metrics of every model, gathered at the end of the run

Commands (``python -m seiswork COMMAND --help`` for each)::

    run       execute the notebooks in order:  run -p epochs 2 -f params.yaml --only 04 05 --out DIR
    sweep     run a grid of parameter sets:     sweep grid.yaml
    train     load -> preprocess -> train -> evaluate without notebooks
    convert   turn a trusted pickle into the safe .npz format
    make-data write the built-in default data set into resources/
    refresh-notebooks   re-execute the committed notebooks, keeping only the outputs nbval checks
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from seiswork.paths import PROJECT_DIR, atomic_write

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
#: the sequence, in order; each notebook can also run alone
NOTEBOOKS = (
    "01_load_preprocess",
    "02_fan_charts",
    "03_augmentation_preview",
    "04_train_lstm",
    "05_train_attention",
)
#: model sub-folders whose metrics the run summary gathers
MODEL_DIRS = ("lstm", "lstm_attention")


def _kernel_manager_class():
    """Kernels over local IPC sockets rather than TCP on localhost: private to this user, and quiet
    (ipykernel warns about unencrypted TCP on every start)."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum, default

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):  # nbclient (and papermill through it) drive kernels async
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc")

        @default("ip")
        def _absolute_ipc_path(self):
            # jupyter_client's default is relative ("kernel-ipc"): kernel and client must agree whatever their cwd
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            return str(runtime / f"kernel-{uuid.uuid4().hex[:12]}-ipc")

    return IPCKernelManager


class RunError(RuntimeError):
    """A notebook of the sequence failed; the message names the notebook and the cell."""


# ----------------------------------------------------------------------------------------------
# run folders


def default_run_dir() -> Path:
    """Where a notebook opened in JupyterLab keeps its results when ``run_dir`` is not given.

    ``$SEISWORK_RUN_DIR`` when set (the tests use it), else ``runs/interactive`` in the project,
    so that notebooks 01..05 run one after another share their results.
    """
    env = os.environ.get("SEISWORK_RUN_DIR")
    return Path(env) if env else PROJECT_DIR / "runs" / "interactive"


def prepare_run_dir(run_dir: str | os.PathLike | None = None) -> Path:
    """Create (if needed) and return the run folder with its ``figures/`` sub-folder."""
    path = Path(run_dir) if run_dir else default_run_dir()
    (path / "figures").mkdir(parents=True, exist_ok=True)
    return path


def new_run_dir(root: str | os.PathLike = "runs") -> Path:
    """A fresh ``root/<YYYYmmdd-HHMMSS>`` folder (suffixed when that second is taken)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(root)
    for i in itertools.count():
        path = root / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def load_preprocessed(
    run_dir: str | os.PathLike | None = None,
    data_paths: Sequence[str] | None = None,
    channels: Sequence[str] = ("Z", "N", "E"),
    test_ratio: float = 0.3,
    val_ratio: float = 0.15,
    seed: int = 0,
):
    """The run's preprocessed data: loaded from ``run_dir/preprocessed.npz`` when notebook 01 wrote it,
    else prepared now (load events → preprocess → split → save), so every notebook can run alone.
    """
    from seiswork.io import load_events
    from seiswork.preprocess import WaveformDataAdapter

    run = prepare_run_dir(run_dir)
    cache = run / "preprocessed.npz"
    if cache.exists():
        adapter = WaveformDataAdapter.load(cache)
        asked = {"channels": tuple(channels), "test_ratio": test_ratio, "val_ratio": val_ratio, "seed": seed}
        held = {"channels": tuple(adapter.channels), "test_ratio": adapter.test_ratio,
                "val_ratio": adapter.val_ratio, "seed": adapter.seed}
        differ = [f"{k}={held[k]!r} (asked {asked[k]!r})" for k in asked if held[k] != asked[k]]
        if differ:
            raise ValueError(
                f"{cache} was prepared with {', '.join(differ)}; rerun 01_load_preprocess with these "
                "parameters, or use another run_dir"
            )
        return adapter
    events = load_events(list(data_paths) if data_paths else None, channels=tuple(channels))
    adapter = WaveformDataAdapter(
        events, events.labels, channels=tuple(channels), test_ratio=test_ratio, val_ratio=val_ratio, seed=seed
    )
    adapter.save(cache)
    return adapter


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    return Path(path)


def summarize_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Gather ``<model>/metrics.json`` of a run into one ``metrics.json`` at its top; returns the summary."""
    run = Path(run_dir)
    summary = {}
    for name in MODEL_DIRS:
        path = run / name / "metrics.json"
        if path.exists():
            summary[name] = json.loads(path.read_text())
    write_json(run / "metrics.json", summary)
    return summary


# ----------------------------------------------------------------------------------------------
# running the notebook sequence


def notebook_path(name: str) -> Path:
    """``"04"``, ``"04_train_lstm"`` or ``"04_train_lstm.ipynb"`` → the notebook's path."""
    stem = Path(name).stem
    matches = [nb for nb in NOTEBOOKS if nb == stem or nb.split("_", 1)[0] == stem]
    if len(matches) != 1:
        raise ValueError(f"unknown notebook {name!r}; choose from {', '.join(NOTEBOOKS)} (or their numbers 01..05)")
    return NOTEBOOKS_DIR / f"{matches[0]}.ipynb"


def declared_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """The names and default values of a notebook's ``parameters`` cell."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    return {name: _literal(info["default"]) for name, info in declared.items()}


def _literal(text: str) -> Any:
    """A parameter value as written: a Python literal (``None``, ``[1, 2]``, ``'a'``), else YAML (``lstm``, ``true``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def run_notebooks(
    parameters: Mapping[str, Any] | None = None,
    out: str | os.PathLike | None = None,
    only: Iterable[str] | None = None,
    progress: bool = True,
) -> Path:
    """Execute the notebooks in order with papermill into a run folder; returns the folder.

    ``parameters`` apply to every notebook that declares them (others ignore them); ``run_dir`` is
    always the run folder. ``only`` picks a subset (``["04", "05"]``). A failing notebook stops the
    run with :class:`RunError` naming the notebook and cell; its partial output notebook is kept.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    parameters = dict(parameters or {})
    paths = [notebook_path(n) for n in only] if only else [NOTEBOOKS_DIR / f"{nb}.ipynb" for nb in NOTEBOOKS]
    run = Path(out) if out else new_run_dir(PROJECT_DIR / "runs")
    if out and run.exists() and any(run.iterdir()):
        raise FileExistsError(f"run folder {run} is not empty; choose another --out (or leave it out for a new one)")
    prepare_run_dir(run)
    (run / "notebooks").mkdir(exist_ok=True)

    given, used = {}, {}
    unknown = set(parameters)
    for path in paths:
        declared = declared_parameters(path)
        given[path.stem] = {k: v for k, v in parameters.items() if k in declared}
        given[path.stem]["run_dir"] = str(run.resolve())
        unknown -= set(given[path.stem])
        used[path.stem] = {**declared, **given[path.stem]}
    if unknown:
        raise ValueError(
            f"parameter(s) {', '.join(sorted(unknown))} are declared by none of "
            f"{', '.join(p.stem for p in paths)}; check the spelling (each notebook's parameters cell lists its names)"
        )
    with atomic_write(run / "parameters.yaml", "w") as f:
        yaml.safe_dump(used, f, sort_keys=False)

    for path in paths:
        output = run / "notebooks" / path.name
        print(f"[seiswork] running {path.name} -> {output}", flush=True)
        try:
            papermill.execute_notebook(
                str(path),
                str(output),
                parameters=given[path.stem],
                cwd=str(path.parent),
                progress_bar=progress,
                kernel_name="python3",
                kernel_manager_class=_kernel_manager_class(),
            )
        except PapermillExecutionError as err:
            raise RunError(
                f"notebook {path.name} failed in cell {err.exec_count} with {err.ename}: {err.evalue}\n"
                f"the partly executed notebook is kept at {output}; open it to see the traceback"
            ) from None
    summary = summarize_run(run)
    print(f"[seiswork] run folder: {run}")
    for model, metrics in summary.items():
        test = {k: metrics.get(k) for k in ("accuracy", "balanced_accuracy", "macro_f1")}
        print(f"[seiswork] {model}: " + ", ".join(f"{k} {v:.3f}" for k, v in test.items() if v is not None))
    return run


NBVAL_MARK = "NBVAL_CHECK_OUTPUT"


def refresh_notebooks(names: Iterable[str] | None = None, timeout: int = 1800) -> list[Path]:
    """Re-execute the committed notebooks in place and keep only the outputs nbval checks.

    Cells marked ``# NBVAL_CHECK_OUTPUT`` (counts, shapes: deterministic) keep their outputs; every
    other output (figures, progress bars, timings) is dropped, so the committed notebooks stay small
    and diff cleanly. Run it after editing a notebook: ``python -m seiswork refresh-notebooks``.
    """
    import nbformat
    from nbclient import NotebookClient

    paths = [notebook_path(n) for n in names] if names else [NOTEBOOKS_DIR / f"{nb}.ipynb" for nb in NOTEBOOKS]
    for path in paths:
        print(f"[seiswork] refreshing {path.name}", flush=True)
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3", kernel_manager_class=_kernel_manager_class(),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nb.metadata.pop("widgets", None)  # widget state (tuner images, progress bars) is large and volatile
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if NBVAL_MARK not in cell.source:  # nbval treats a checked cell without a count as unrun
                cell.outputs = []
                cell.execution_count = None
            cell.metadata.pop("execution", None)
        with atomic_write(path, "w") as f:
            nbformat.write(nb, f)
    return paths


# ----------------------------------------------------------------------------------------------
# sweeps


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """``{"a": [1, 2], "b": [3]}`` → ``[{"a": 1, "b": 3}, {"a": 2, "b": 3}]``."""
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"grid entry {name!r} must be a non-empty list of values, got {values!r}")
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def run_sweep(spec: Mapping[str, Any], out: str | os.PathLike | None = None, progress: bool = False):
    """Run every parameter set of a grid and write one summary table (``summary.csv``); returns the table.

    ``spec`` (usually read from YAML)::

        parameters: {epochs: 3}          # fixed for every run
        grid: {hidden: [32, 64], seed: [0, 1]}
        only: ["01", "04"]               # optional subset of notebooks
    """
    import pandas as pd

    extra = set(spec) - {"parameters", "grid", "only"}
    if extra or "grid" not in spec:
        raise ValueError(f"a sweep file has the keys parameters, grid, only; got {sorted(spec)} (grid is required)")
    fixed = dict(spec.get("parameters") or {})
    root = Path(out) if out else new_run_dir(PROJECT_DIR / "runs" / "sweeps")
    rows = []
    for i, combo in enumerate(expand_grid(spec["grid"])):
        name = f"{i:03d}-" + "-".join(f"{k}={v}" for k, v in combo.items())
        run = run_notebooks({**fixed, **combo}, out=root / name, only=spec.get("only"), progress=progress)
        summary = json.loads((run / "metrics.json").read_text())
        row = {"run": name, **combo}
        for model, metrics in summary.items():
            for key in ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc"):
                if key in metrics:
                    row[f"{model}.{key}"] = metrics[key]
        rows.append(row)
    table = pd.DataFrame(rows)
    with atomic_write(root / "summary.csv", "w") as f:
        table.to_csv(f, index=False)
    print(table.to_string(index=False))
    print(f"[seiswork] sweep summary: {root / 'summary.csv'}")
    return table


# ----------------------------------------------------------------------------------------------
# command line


def _parameters_from_args(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for path in args.file or []:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path} must hold a mapping of parameter names to values, got {type(loaded).__name__}")
        params.update(loaded)
    for name, value in args.parameter or []:
        params[name] = _literal(value)  # "2" -> 2, "[a, b]" -> list, as papermill -y reads it
    return params


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seiswork", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="execute the notebook sequence headless into a run folder")
    p_run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="a notebook parameter (YAML value), repeatable")
    p_run.add_argument("-f", "--file", action="append", metavar="YAML", help="parameters from a YAML file")
    p_run.add_argument("--only", nargs="+", metavar="NB", help="run only these notebooks, e.g. --only 01 04")
    p_run.add_argument("--out", help="run folder (default runs/<timestamp>); must be new or empty")
    p_run.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")

    p_sweep = sub.add_parser("sweep", help="run a grid of parameter sets and write one summary table")
    p_sweep.add_argument("grid", help="YAML file with keys parameters, grid, only")
    p_sweep.add_argument("--out", help="sweep folder (default runs/sweeps/<timestamp>)")

    p_conv = sub.add_parser("convert", help="convert a trusted pickle (or any readable format) to the safe .npz")
    p_conv.add_argument("src")
    p_conv.add_argument("dst")
    p_conv.add_argument("--channels", nargs="+", default=["Z", "N", "E"])
    p_conv.add_argument("--overwrite", action="store_true", help="replace DST if it exists")

    p_data = sub.add_parser("make-data", help="write the built-in synthetic data set")
    p_data.add_argument("--out", help="pickle path (default resources/default_events.pkl)")
    p_data.add_argument("--n-events", type=int, default=None)
    p_data.add_argument("--seed", type=int, default=0)
    p_data.add_argument("--difficulty", type=float, default=None)
    p_data.add_argument("--overwrite", action="store_true")

    p_refresh = sub.add_parser("refresh-notebooks", help="re-execute the notebooks and keep only the outputs nbval checks")
    p_refresh.add_argument("names", nargs="*", help="notebooks (default: all)")

    sub.add_parser("train", help="load -> preprocess -> train -> evaluate (see train --help)", add_help=False)

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from seiswork.train_command import train_main

        return train_main(argv[1:])
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run_notebooks(_parameters_from_args(args), out=args.out, only=args.only, progress=not args.no_progress)
        elif args.command == "sweep":
            spec = yaml.safe_load(Path(args.grid).read_text())
            run_sweep(spec, out=args.out)
        elif args.command == "convert":
            from seiswork.io import convert

            path = convert(args.src, args.dst, channels=tuple(args.channels), overwrite=args.overwrite)
            print(f"wrote {path}")
        elif args.command == "refresh-notebooks":
            refresh_notebooks(args.names or None)
        elif args.command == "make-data":
            from seiswork import synthetic

            kwargs = {k: v for k, v in (("n_events", args.n_events), ("difficulty", args.difficulty)) if v is not None}
            synthetic.write_default(args.out, seed=args.seed, overwrite=args.overwrite, **kwargs)
    except (RunError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"seiswork {args.command}: {err}", file=sys.stderr)
        return 1
    return 0
