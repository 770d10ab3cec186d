"""Classification quality of the physics baselines and the LSTMs on each representation, by cross-validation.

For each data set (the PhaseNet earthquake/noise windows in ``../shared/data`` and the built-in default data):
event-grouped, stratified k-fold cross-validation (``StratifiedGroupKFold``, ``random_state=0``; recordings that
share an ``event_id`` stay in one fold; a validation part for early stopping is carved, grouped and stratified,
from each training fold). Every method is fitted on the same training part and scored on the same test fold;
the table gives balanced accuracy and macro F1 (mean ± sd over folds; a network's score per fold is the mean
over ``--seeds`` runs) and the seconds per fold and run (fit + test).

Methods: the logistic and random-forest baselines (:func:`seiswork.baseline.make_baseline`), ``LSTMModel`` and
``LSTMAttentionModel`` on the seed spectrum (``FFTTransform(512)``, read along frequency) and on the log
spectrogram (``SpectrogramTransform``, read along time, default window and hop for the sampling rate), each with
the default augmentation, the model inputs of ``seiswork.transforms.model_inputs`` (input normalisation; the
input summary for the spectrogram, ``--no-summary`` to leave it out) and the notebooks'
training settings (``seiswork.defaults``: up to 60 epochs, patience 15, batch 32, lr 2e-3, hidden 64, 2 layers,
weights averaged over epochs (``ema`` 0.5) and an ensemble of 3 members; ``--members 1 --ema 1`` gives the single
networks the README's older rows measured).

    python benchmarks/bench_quality.py            # full: 5 folds, the notebooks' settings
    python benchmarks/bench_quality.py --quick    # smoke run: 2 folds, 3 epochs, phasenet only if present
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

import seiswork
from seiswork import defaults
from seiswork.baseline import make_baseline
from seiswork.models import MODELS
from seiswork.training import fit_members
from seiswork.transforms import default_pipelines, model_inputs

PHASENET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "phasenet_eq_vs_noise" / \
    "phasenet_eq_vs_noise.pkl"
PHASENET_RATE = 100.0  # Hz, from ../shared/data/README.md (the pickle carries no rate)
BASELINES = ("logistic", "random_forest")
NETS = (("lstm", "spectrum"), ("lstm", "spectrogram"), ("lstm_attention", "spectrum"),
        ("lstm_attention", "spectrogram"))


def load(path: Path | None, rate: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], float]:
    """Preprocessed events ``(n, time, channel)``, labels, event ids, class names, sampling rate (Hz)."""
    events = seiswork.load_events(path, verbose=False)
    adapter = seiswork.WaveformDataAdapter(events, verbose=False)
    meta = events.meta.iloc[adapter.kept].reset_index(drop=True)
    ids = meta["event_id"].astype(str).to_numpy() if "event_id" in meta else np.arange(len(meta)).astype(str)
    if rate is None:
        rates = meta["sampling_rate"].dropna().unique() if "sampling_rate" in meta else []
        if len(rates) != 1:
            raise SystemExit(f"{path}: no single sampling rate in the metadata ({rates}); pass it")
        rate = float(rates[0])
    return adapter.x, adapter.y, ids, list(adapter.classes), rate


def folds(y: np.ndarray, ids: np.ndarray, k: int, seed: int = 0):
    """``(train, val, test)`` row indices per fold; val is one grouped, stratified fifth of the training part."""
    outer = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for train, test in outer.split(np.zeros(len(y)), y, ids):
        inner = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
        fit_part, val_part = next(inner.split(np.zeros(len(train)), y[train], ids[train]))
        yield train[fit_part], train[val_part], test


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Balanced accuracy, macro F1 and the predictions themselves."""
    return balanced_accuracy_score(y_true, y_pred), f1_score(y_true, y_pred, average="macro"), y_pred


def run_baseline(kind: str, x, y, parts, rate: float, seed: int) -> tuple[float, float, np.ndarray]:
    train, val, test = parts
    fitted = np.concatenate([train, val])  # no early stopping: the validation part is training data here
    model = make_baseline(kind, rate, seed=seed).fit(x[fitted], y[fitted])
    return scores(y[test], model.predict(x[test]))


def run_net(name: str, representation: str, x, y, classes, parts, rate: float, seed: int,
            args) -> tuple[float, float, np.ndarray]:
    train, val, test = parts
    train_t, eval_t = default_pipelines(seed=seed, representation=representation, sampling_rate=rate)
    features = eval_t(torch.from_numpy(x[:1])).shape[-1]
    inputs = model_inputs(representation)
    inputs["summary"] = inputs["summary"] and args.summary
    model = seiswork.build_model(name, seed=seed, channels=features, classes=len(classes), hidden=args.hidden,
                                 layers=args.layers, **inputs)
    ds = {k: seiswork.WaveformDataset(x[rows], y[rows], classes=classes) for k, rows in
          (("train", train), ("val", val), ("test", test))}
    with tempfile.TemporaryDirectory() as tmp:
        result = fit_members(model, ds["train"], ds["val"], members=args.members, epochs=args.epochs,
                             batch_size=args.batch_size, lr=args.lr, train_transform=train_t, eval_transform=eval_t,
                             seed=seed, patience=args.patience, ema=args.ema, progress=False, checkpoint_dir=tmp,
                             device=args.device)
        report = seiswork.evaluate(result.model, ds["test"], eval_t, device=args.device, classes=classes)
    return report["balanced_accuracy"], report["macro_f1"], report["predictions"]


def bench(label: str, x, y, ids, classes, rate: float, k: int, args) -> list[tuple]:
    methods = [(b, None) for b in BASELINES if "baseline" in args.methods]
    methods += [n for n in NETS if f"{n[0]}:{n[1]}" in args.methods or n[0] in args.methods]
    results = {m: [] for m in methods}
    always_wrong = np.ones(len(y), dtype=bool)  # events every method and run gets wrong
    for f, parts in enumerate(folds(y, ids, k)):
        test = parts[2]
        for m in methods:
            t0 = time.perf_counter()
            if m[1] is None:
                runs = [run_baseline(m[0], x, y, parts, rate, seed=f)]
            else:  # the mean over --seeds runs (weights, augmentation, shuffling): one run moves by points
                runs = [run_net(m[0], m[1], x, y, classes, parts, rate, seed=f + 100 * s, args=args)
                        for s in range(args.seeds)]
            ba, f1 = np.mean([r[:2] for r in runs], axis=0)
            for r in runs:
                always_wrong[test] &= r[2] != y[test]
            results[m].append((ba, f1, (time.perf_counter() - t0) / (1 if m[1] is None else args.seeds)))
            print(f"  {label} fold {f}: {m[0]:<15} {m[1] or 'physics features':<17} balanced accuracy {ba:.3f}  "
                  f"macro F1 {f1:.3f}  {results[m][-1][2]:.1f} s", flush=True)
    wrong = np.flatnonzero(always_wrong)
    print(f"{label}: {len(wrong)} events every method got wrong (row, true class, event id): "
          + ", ".join(f"{i} {classes[y[i]]} {ids[i]}" for i in wrong[:30]) + (" ..." if len(wrong) > 30 else ""))
    return [(label, m, np.array(r)) for m, r in results.items()]


def table(rows: list[tuple], k_of: dict[str, int]) -> str:
    lines = ["| data (folds) | method | input | balanced accuracy | macro F1 | s per fold |", "|---|---|---|---|---|---|"]
    for label, (name, rep), r in rows:
        lines.append(f"| {label} ({k_of[label]}) | {name} | {rep or 'physics features'} | {r[:, 0].mean():.3f} ± "
                     f"{r[:, 0].std(ddof=1) if len(r) > 1 else 0:.3f} | {r[:, 1].mean():.3f} ± "
                     f"{r[:, 1].std(ddof=1) if len(r) > 1 else 0:.3f} | {r[:, 2].mean():.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 2 folds, 3 epochs")
    p.add_argument("--data", nargs="+", default=["phasenet", "builtin"], choices=["phasenet", "builtin"])
    p.add_argument("--folds", type=int, default=5, help="folds for the PhaseNet set (default 5)")
    p.add_argument("--builtin-folds", type=int, default=5, help="folds for the built-in data (default 5)")
    p.add_argument("--methods", nargs="+", default=["baseline", "lstm", "lstm_attention"],
                   help="baseline, lstm, lstm_attention, or one model and input as lstm:spectrogram")
    p.add_argument("--seeds", type=int, default=1, help="runs per network and fold, averaged (default 1)")
    p.add_argument("--epochs", type=int, default=defaults.EPOCHS, help="maximum epochs (the notebooks' default)")
    p.add_argument("--patience", type=int, default=defaults.PATIENCE)
    p.add_argument("--members", type=int, default=defaults.MEMBERS,
                   help="networks averaged per run (an ensemble; the notebooks' default)")
    p.add_argument("--ema", type=float, default=defaults.EMA,
                   help="weight of the newest epoch in the kept average of weights (1: none)")
    p.add_argument("--summary", action=argparse.BooleanOptionalAction, default=True,
                   help="the input summary where the representation has it (seiswork.transforms.model_inputs)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--device", default=None, help="default: CUDA when present, else CPU")
    args = p.parse_args(argv)
    if args.quick:
        args.folds, args.builtin_folds, args.epochs, args.members = 2, 2, 3, 1
    unknown = [m for m in args.methods if m != "baseline" and m.split(":")[0] not in MODELS]
    if unknown:
        p.error(f"--methods: unknown {unknown}; choose baseline, {', '.join(MODELS)}")
    rows, k_of = [], {}
    for name in args.data:
        if name == "phasenet":
            if not PHASENET.is_file():
                print(f"skipping phasenet: {PHASENET} is absent (../shared/data)")
                continue
            data, k = load(PHASENET, PHASENET_RATE), args.folds
        else:
            data, k = load(None, None), args.builtin_folds
        x, y, ids, classes, rate = data
        print(f"{name}: {len(x)} events {x.shape[1:]} at {rate:g} Hz, classes {classes}, {k} folds", flush=True)
        k_of[name] = k
        rows += bench(name, x, y, ids, classes, rate, k, args)
    print(table(rows, k_of))
    print(f"machine: {torch.get_num_threads()} torch threads, {args.seeds} seed(s) per network, device "
          f"{args.device or ('cuda' if torch.cuda.is_available() else 'cpu')}; epochs<={args.epochs}, "
          f"patience {args.patience}, batch {args.batch_size}, lr {args.lr:g}, hidden {args.hidden}, "
          f"layers {args.layers}, members {args.members}, ema {args.ema:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
