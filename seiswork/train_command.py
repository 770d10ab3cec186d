"""The ``seiswork train`` command (load -> preprocess -> augment + FFT -> fit -> test report) and its pipelines.

Application code on top of the training engine (:mod:`seiswork.training`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from torch import nn

from seiswork.models import MODELS, build_model, model_summary
from seiswork.training import BEST, HISTORY, evaluate, fit, save_metrics
from seiswork.training.arguments import check_int as _check_int
from seiswork.transforms import seed_pipeline

__all__ = ["default_pipelines", "train_main"]


def default_pipelines(
    fft_size: int = 512, seed: int = 0, augment: bool = True, augmentation: nn.Module | str | Path | None = None
) -> tuple[nn.Module, nn.Module]:
    """The seed's pipelines: ``(train_transform, eval_transform)``.

    train: ``Compose([RandomApply(TimeShift(0.1), 0.5), RandomApply(AddNoise(15, 40), 0.5),
    RandomApply(AmplitudeScale(0.9, 1.1), 0.3), RandomApply(TimeStretch(0.95, 1.05), 0.3)])``, then
    ``FFTTransform(fft_size)`` and ``ToTensor()`` (without ``augment``: the spectrum only);
    eval: ``FFTTransform(fft_size)``, ``ToTensor()``. Both map ``(B, time, channel)`` to
    ``(B, fft_size // 2 + 1, channel)`` on any device.
    ``augmentation`` replaces the seed's Compose: a module, or the path of one saved with
    :func:`seiswork.save_pipeline` (the tuner of notebook 03); it is reseeded from ``seed``.
    """
    from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch
    from seiswork.transforms import FFTTransform, Pipeline, ToTensor, load_pipeline

    fft_size = _check_int("fft_size", fft_size, minimum=2)
    eval_transform = Pipeline(FFTTransform(fft_size=fft_size), ToTensor())
    if not augment:
        return Pipeline(FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    if augmentation is not None:
        if not isinstance(augmentation, nn.Module):
            augmentation = load_pipeline(augmentation)
        seed_pipeline(augmentation, seed)
        return Pipeline(augmentation, FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    augmentation = Compose([
        RandomApply(TimeShift(max_shift=0.1), p=0.5),
        RandomApply(AddNoise(snr_min=15, snr_max=40), p=0.5),
        RandomApply(AmplitudeScale(0.9, 1.1), p=0.3),
        RandomApply(TimeStretch(0.95, 1.05), p=0.3),
    ], seed=seed)
    return Pipeline(augmentation, FFTTransform(fft_size=fft_size), ToTensor()), eval_transform


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seiswork train",
        description="Train an LSTM classifier on 3-component events: load -> preprocess -> augment + FFT -> fit "
                    "-> test report. Writes best.pt, last.pt, history.csv and metrics.json into --out.")
    p.add_argument("--model", choices=sorted(MODELS), default="lstm", help="model name (default: lstm)")
    p.add_argument("--data", nargs="+", default=None, metavar="PATH",
                   help="event files (.pkl/.npz/...); default: the built-in synthetic data set")
    p.add_argument("--channels", default="ZNE", help="channel order, e.g. ZNE or Z (default: ZNE)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience in epochs (0: never stop)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2, help="attention heads (lstm_attention only)")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--fft-size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-ratio", type=float, default=0.3)
    p.add_argument("--val-ratio", type=float, default=0.1)
    p.add_argument("--no-augment", action="store_true", help="train without augmentation (spectrum only)")
    p.add_argument("--no-class-weights", action="store_true", help="unweighted loss")
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16 on CPU, fp16 on CUDA)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when present)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/train-<timestamp>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh over checkpoints already in --out")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    return p


def train_main(argv: list[str] | None = None) -> int:
    """``python -m seiswork train ...``: the seed's ``pipelines/train_lstm.py`` as a command. Returns an exit code."""
    args = _train_parser().parse_args(argv)
    try:
        return _train(args)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"seiswork train: error: {exc}", file=sys.stderr)
        return 1


def _train(args: argparse.Namespace) -> int:
    from seiswork.io import load_events
    from seiswork.preprocess import WaveformDataAdapter

    channels = tuple(args.channels)
    out = args.out or Path("runs") / f"train-{datetime.now():%Y%m%d-%H%M%S}"
    loaded = load_events(args.data, channels=channels)
    events, labels = loaded
    meta = getattr(loaded, "meta", None)
    adapter = WaveformDataAdapter(events, labels, channels=channels, test_ratio=args.test_ratio,
                                  val_ratio=args.val_ratio, seed=args.seed, meta=meta)
    train_ds, val_ds, test_ds = (adapter.dataset(part) for part in ("train", "val", "test"))
    classes = [str(c) for c in adapter.classes]
    print(f"classes: {classes}; events train/val/test: {len(train_ds)}/{len(val_ds)}/{len(test_ds)}; "
          f"event shape (time, channel): {tuple(adapter.x.shape[1:])}")

    train_t, eval_t = default_pipelines(args.fft_size, seed=args.seed, augment=not args.no_augment)
    kwargs = {"channels": len(channels), "classes": len(classes), "hidden": args.hidden, "layers": args.layers,
              "dropout": args.dropout}
    if args.model == "lstm_attention":
        kwargs["heads"] = args.heads
    model = build_model(args.model, seed=args.seed, **kwargs)
    seq_len = args.fft_size // 2 + 1
    print(f"model input shape (seq_len, channels): ({seq_len}, {len(channels)})")
    print(model_summary(model, (1, seq_len, len(channels))))

    result = fit(
        model, train_ds, val_ds, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, train_transform=train_t, eval_transform=eval_t, device=args.device,
        seed=args.seed, patience=args.patience or None, class_weights=not args.no_class_weights,
        checkpoint_dir=out, resume=args.resume, overwrite=args.overwrite, amp=args.amp,
        progress=False if args.quiet else None)
    report = evaluate(result.model, test_ds, transform=eval_t, device=result.device, classes=classes)

    save_metrics(report, out / "metrics.json", extra={
        "model": args.model, "model_config": result.model.config, "best_epoch": result.best_epoch,
        "epochs_run": len(result.history), "stopped_early": result.stopped_early,
        "best_val_macro_f1": result.best_score, "seed": args.seed, "data": args.data,
        "n_train": len(train_ds), "n_val": len(val_ds), "n_test": len(test_ds), "fft_size": args.fft_size,
        "augment": not args.no_augment, "device": str(result.device)})
    print(f"test ({report['n_samples']} events): accuracy {report['accuracy']:.4f}, "
          f"balanced accuracy {report['balanced_accuracy']:.4f}, macro F1 {report['macro_f1']:.4f}, "
          f"ROC-AUC {report['roc_auc']:.4f}")
    print(report["per_class"].round(4).to_string())
    print(f"wrote {out / BEST}, {out / HISTORY}, {out / 'metrics.json'}")
    return 0
