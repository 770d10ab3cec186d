"""The command line: ``python -m seiswork COMMAND`` (or ``seiswork COMMAND``).

Commands (``python -m seiswork COMMAND --help`` for each)::

    run       execute the notebooks in order:  run -p epochs 2 -f params.yaml --only 04 05 --out DIR
              run --list-parameters             each notebook's parameters and defaults
    sweep     run a grid of parameter sets:     sweep grid.yaml [--workers N | --scheduler tcp://HOST:8786]
    train     load -> preprocess -> train -> test report, without notebooks (flags: train --help)
    cv        grouped, stratified k-fold cross-validation of models and the physics baselines (cv --help)
    predict   classify new events with a trained model:  predict MODEL.seiswork DATA... --out predictions.csv
    convert   turn a trusted pickle into the safe .npz format
    make-data write the built-in default data set into resources/
    refresh-notebooks   re-execute the committed notebooks, keeping only the outputs nbval checks

Errors are reported in one line naming the flag or file, without a traceback, and exit with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import yaml

from seiswork import runner
from seiswork.sweep import run_sweep
from seiswork.study import Study, StudyError

__all__ = ["main", "train_main"]


def _parameters_from_args(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for path in args.file or []:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path} must hold a mapping of parameter names to values, got {type(loaded).__name__}")
        params.update(loaded)
    for name, value in args.parameter or []:
        params[name] = runner.parse_value(value)  # "2" -> 2, "[a, b]" -> list, as papermill -y reads it
    return params


def _list_parameters() -> None:
    for name in runner.NOTEBOOKS:
        print(f"{name}:")
        for key, value in runner.declared_parameters(runner.NOTEBOOKS_DIR / f"{name}.ipynb").items():
            print(f"  {key} = {value!r}")


def _study_parser(command: str, description: str) -> argparse.ArgumentParser:
    """A command's parser: one flag per study parameter (defaults in --help), and --out."""
    p = argparse.ArgumentParser(prog=f"python -m seiswork {command}", description=description)
    Study.add_arguments(p, skip=("run_dir",))
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default: runs/{command}-<timestamp>)")
    return p


# ---------------------------------------------------------------------------------------------- train
def _train_parser() -> argparse.ArgumentParser:
    p = _study_parser("train", "Train a classifier without notebooks: load -> preprocess -> augment + FFT -> fit "
                               "-> test report. Writes best.pt, last.pt, history.csv, metrics.json and "
                               "model.seiswork into --out.")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh over checkpoints already in --out")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    return p


def _study_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Study:
    try:
        return Study.from_args(args)
    except StudyError as err:
        parser.error(f"argument {err.flag}: {str(err).split(': ', 1)[1]}")


def train_main(argv: Sequence[str] | None = None) -> int:
    """``python -m seiswork train ...``; returns an exit code."""
    from seiswork.study import run_training

    parser = _train_parser()
    args = parser.parse_args(argv)
    if args.resume and args.overwrite:
        parser.error("--resume continues the run in --out and --overwrite starts it afresh: pass one of them")
    study = _study_or_exit(parser, args)
    # under torchrun every process must pick the same folder: the launch's id, not each process's clock
    launch = os.environ.get("TORCHELASTIC_RUN_ID")
    out = args.out or Path("runs") / (f"train-{launch}" if launch else f"train-{datetime.now():%Y%m%d-%H%M%S}")
    from seiswork.training.members import first_last_checkpoint

    last = first_last_checkpoint(out, study.members)
    if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0) > 0 and not args.overwrite:
        # torchrun --max-restarts started this launch again after a failure: continue from the last epoch saved
        args.resume = last.exists()
        args.overwrite = not args.resume
    existing = sorted(str(p.relative_to(out)) for p in {out / "best.pt", out / "last.pt", last} if p.exists())
    if existing and not (args.resume or args.overwrite):
        parser.error(f"--out {out} already holds {', '.join(existing)}: pass --resume to continue that run, "
                     "--overwrite to start afresh, or choose another --out")
    if args.resume and not last.exists():
        parser.error(f"--resume: {out} holds no {last.relative_to(out)} to continue from (for --members "
                     f"{study.members}); leave out --resume to start a new run")
    try:
        report = run_training(study, out, resume=args.resume, overwrite=args.overwrite,
                              progress=False if args.quiet else None)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"seiswork train: error: {exc}", file=sys.stderr)
        return 1
    from seiswork.training.distributed import is_main

    if not is_main():  # under torchrun rank 0 alone reports
        return 0
    print(f"test ({report['n_samples']} events): accuracy {report['accuracy']:.4f}, "
          f"balanced accuracy {report['balanced_accuracy']:.4f}, macro F1 {report['macro_f1']:.4f}, "
          f"ROC-AUC {report['roc_auc']:.4f}")
    print(report["per_class"].round(4).to_string())
    from seiswork.training.report import report_table

    print("beside the physics baselines on the same test part:")
    print(report_table({study.model: report, **report["baselines"]}).round(4).to_string())
    print(f"wrote {out / 'best.pt'}, {out / 'history.csv'}, {out / 'metrics.json'}, {out / 'model.seiswork'}")
    return 0


# ---------------------------------------------------------------------------------------------- cv
def _cv_parser() -> argparse.ArgumentParser:
    p = _study_parser("cv", "Event-grouped, stratified k-fold cross-validation: every model and the physics "
                            "baselines on the same folds; writes cv_folds.csv and cv_summary.csv (mean and sd per "
                            "method) into --out.")
    p.add_argument("--folds", type=int, default=5, help="number of folds (default: 5)")
    p.add_argument("--models", nargs="+", default=None, metavar="NAME",
                   help="models to cross-validate (default: --model)")
    p.add_argument("--workers", type=int, default=None, help="run folds on a local Dask cluster of N processes")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run folds on the Dask cluster there")
    p.add_argument("--threads", type=int, default=None, help="CPU threads per fold")
    return p


def cv_main(argv: Sequence[str] | None = None) -> int:
    """``python -m seiswork cv ...``; returns an exit code."""
    from seiswork.study.crossval import cross_validate

    parser = _cv_parser()
    args = parser.parse_args(argv)
    study = _study_or_exit(parser, args)
    out = args.out or Path("runs") / f"cv-{datetime.now():%Y%m%d-%H%M%S}"
    if (out / "cv_summary.csv").exists():
        parser.error(f"--out {out} already holds a cross-validation (cv_summary.csv); choose another --out")
    try:
        _, summary = cross_validate(study, folds=args.folds, models=args.models, out=out, workers=args.workers,
                                    scheduler=args.scheduler, threads=args.threads)
    except (ValueError, FileNotFoundError) as exc:
        print(f"seiswork cv: error: {exc}", file=sys.stderr)
        return 1
    print(summary.round(4).to_string())
    print(f"wrote {out / 'cv_folds.csv'}, {out / 'cv_summary.csv'}")
    return 0


# ---------------------------------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seiswork", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="execute the notebook sequence headless into a run folder")
    p_run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="a notebook parameter (YAML value), repeatable")
    p_run.add_argument("-f", "--file", action="append", metavar="YAML", help="parameters from a YAML file")
    p_run.add_argument("--only", nargs="+", metavar="NB", help="run only these notebooks, e.g. --only 01 04")
    p_run.add_argument("--out", help="run folder (default runs/<timestamp>); must be new or empty")
    p_run.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    p_run.add_argument("--list-parameters", action="store_true",
                       help="print each notebook's parameters with their defaults, and run nothing")

    p_sweep = sub.add_parser("sweep", help="run a grid of parameter sets and write one summary table")
    p_sweep.add_argument("grid", help="YAML file with keys parameters, grid, only")
    p_sweep.add_argument("--out", help="sweep folder (default runs/sweeps/<timestamp>)")
    p_sweep.add_argument("--workers", type=int, default=None,
                         help="run on a local Dask cluster of N processes (default: one run after another)")
    p_sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="run on an existing Dask cluster, e.g. tcp://HOST:8786")
    p_sweep.add_argument("--threads", type=int, default=None,
                         help="CPU threads per run (default: the cores shared out among --workers)")

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

    p_refresh = sub.add_parser("refresh-notebooks",
                               help="re-execute the notebooks and keep only the outputs nbval checks")
    p_refresh.add_argument("names", nargs="*", help="notebooks (default: all)")

    sub.add_parser("train", help="load -> preprocess -> train -> evaluate (see train --help)", add_help=False)
    sub.add_parser("cv", help="k-fold cross-validation of models and baselines (see cv --help)", add_help=False)
    sub.add_parser("predict", help="classify new events with a model bundle (see predict --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        return train_main(argv[1:])
    if argv[:1] == ["cv"]:
        return cv_main(argv[1:])
    if argv[:1] == ["predict"]:
        from seiswork.inference import predict_main

        return predict_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            if args.list_parameters:
                _list_parameters()
            else:
                runner.run_notebooks(_parameters_from_args(args), out=args.out, only=args.only,
                                     progress=not args.no_progress)
        elif args.command == "sweep":
            spec = yaml.safe_load(Path(args.grid).read_text())
            run_sweep(spec, out=args.out, workers=args.workers, scheduler=args.scheduler, threads=args.threads)
        elif args.command == "convert":
            import seiswork
            from seiswork.study import parse_channels

            channels = parse_channels(args.channels[0] if len(args.channels) == 1 else args.channels)
            path = seiswork.convert(args.src, args.dst, channels=channels, overwrite=args.overwrite)
            print(f"wrote {path}")
        elif args.command == "refresh-notebooks":
            runner.refresh_notebooks(args.names or None)
        elif args.command == "make-data":
            from seiswork import synthetic

            kwargs = {k: v for k, v in (("n_events", args.n_events), ("difficulty", args.difficulty)) if v is not None}
            synthetic.write_default(args.out, seed=args.seed, overwrite=args.overwrite, **kwargs)
    except (runner.RunError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"seiswork {args.command}: {err}", file=sys.stderr)
        return 1
    return 0

