"""Headless runs of the notebook sequence (papermill) and parameter sweeps.

A run writes one run folder (see :mod:`seiswork.runs` for its layout). Notebooks get their parameters
from papermill; the values are checked against the :class:`~seiswork.study.Study` definition before
anything runs, and relative ``data_paths`` are made absolute from the folder the run was started in.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from seiswork.paths import PROJECT_DIR, atomic_write
from seiswork.runs import new_run_dir, prepare_run_dir, summarize_run

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
#: the sequence, in order; each notebook can also run alone
NOTEBOOKS = (
    "01_load_preprocess",
    "02_fan_charts",
    "03_augmentation_preview",
    "04_train_lstm",
    "05_train_attention",
)


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
    return {name: parse_value(info["default"]) for name, info in declared.items()}


def parse_value(text: str) -> Any:
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

    from seiswork.study import Study

    parameters = dict(parameters or {})
    if parameters.get("data_paths"):  # relative to where the run was started, not to notebooks/
        paths_given = parameters["data_paths"]
        paths_given = [paths_given] if isinstance(paths_given, (str, os.PathLike)) else paths_given
        parameters["data_paths"] = [os.path.abspath(os.path.expanduser(p)) for p in paths_given]
    # checked once, here, before any notebook runs: the error names the parameter and its valid values
    Study.from_parameters({k: v for k, v in parameters.items() if k in Study.names()})
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
