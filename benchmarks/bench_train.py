"""Training speed and quality: seiswork's ``fit`` against a straightforward reference loop.

Sections (all on the CPU unless CUDA is present; run ``--help`` for sizes):

1. **speed + accuracy** on synthetic events ``(N, 1700, 3)`` (``seiswork.synthetic.make_events``, default
   N=4433) with the seed's augmentations and ``LSTMModel(hidden=64, layers=2)``:

   - *reference*: per-event numpy augmentation in a ``Dataset`` (``np.roll``, ``np.random.normal``,
     ``np.interp``, ``np.fft``), ``DataLoader(batch_size=32)``, fp32 model, plain AdamW step; each LSTM layer
     one oneDNN call over the batch, as ``nn.LSTM`` runs (``cpu_shards = 1``);
   - *ours*: ``seiswork.fit`` — batched augmentation + FFT on the training device inside the loop,
     larger batch, mixed precision (bf16 autocast on CPU), the LSTM stack's batch cut into one shard per core;
   - *bare*: the same model step as ours (same batch size, precision) on ready spectra, no data work.

   Prints epoch times (train + validation pass), the ratios reference/ours (target >= 2) and ours/bare
   (target <= 1.15), and the test accuracy of each after the same number of epochs (target: equal within
   1 point), as mean and sd over ``--seeds`` runs (one seed's accuracy moves by 1-3 points). ``--amp-study``
   adds ours in fp32 to isolate what mixed precision does to speed and accuracy; ``--shard-study`` adds ours
   without CPU shards; ``--attention-study`` compares LSTMAttentionModel with and without attention dropout.
2. **representation study** (``--spectrogram-study``): epoch time (train + validation, ``fit``'s own timing)
   and test accuracy of ``LSTMModel`` and ``LSTMAttentionModel`` of the same size on the seed spectrum
   (257 frequency steps) and on the log spectrogram (``SpectrogramTransform`` at its 100 Hz defaults: 15 time
   frames of 387 features for 1700 samples); prints spectrum/spectrogram epoch time (target >= 3).
3. **input normalisation study** (``--norm-study``): ``LSTMModel`` with each ``input_norm`` on the same data.
4. **real data** (``../shared/data/phasenet_eq_vs_noise``, earthquake vs noise, split grouped by event id):
   test balanced accuracy and macro F1 of both models; skipped with a message when absent.

Usage: ``python benchmarks/bench_train.py`` (full, a few minutes on 2 cores) or
``python benchmarks/bench_train.py --events 600 --epochs 1 --skip-realdata`` (quick).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seiswork.models import LSTMModel, build_model  # noqa: E402
from seiswork.data.adapter import WaveformDataAdapter  # noqa: E402
from seiswork.transforms import default_pipelines, model_inputs  # noqa: E402
from seiswork.training import cpu_threads, evaluate, fit  # noqa: E402

REALDATA = ROOT.parent / "shared" / "data" / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl"
FFT_SIZE = 512
LENGTH = 1700


# ----------------------------------------------------------------------------- data
def synthetic_adapter(n_events: int, seed: int = 0) -> WaveformDataAdapter:
    from seiswork.synthetic import make_events

    # durations long enough that every event keeps >= LENGTH samples after its NaN padding is dropped
    events, labels, meta = make_events(n_events=n_events, seed=seed, duration_range_s=(19.5, 22.0))
    return WaveformDataAdapter(events, labels, meta=meta, length=LENGTH, seed=seed, verbose=False)


# ----------------------------------------------------------------------------- the reference loop
def np_spectrum(x: np.ndarray, fft_size: int = FFT_SIZE) -> np.ndarray:
    """Welch magnitude spectrum of one event (time, channel) with numpy, as FFTTransform computes it."""
    t = x.shape[0]
    hop = fft_size // 2
    starts = list(range(0, t - fft_size + 1, hop))
    if starts[-1] + fft_size < t:
        starts.append(t - fft_size)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_size) / fft_size)  # periodic Hann
    frames = np.stack([x[s:s + fft_size] for s in starts])  # (segments, fft_size, channel)
    power = (np.abs(np.fft.rfft(frames * w[None, :, None], axis=1)) ** 2).mean(axis=0)
    return (np.sqrt(power) / np.sqrt((w ** 2).sum())).astype(np.float32)


class ReferenceDataset(torch.utils.data.Dataset):
    """Per-event numpy augmentation (the seed's modules and probabilities), then the numpy spectrum."""

    def __init__(self, x: np.ndarray, y: np.ndarray, augment: bool, seed: int = 0) -> None:
        self.x, self.y, self.augment = x, y, augment
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        x = self.x[i].astype(np.float64)
        rng = self.rng
        if self.augment:
            t = x.shape[0]
            if rng.random() < 0.5:  # TimeShift(0.1), circular
                x = np.roll(x, int(rng.integers(-int(0.1 * t), int(0.1 * t) + 1)), axis=0)
            if rng.random() < 0.5:  # AddNoise(15, 40 dB) from the event's own power
                snr = rng.uniform(15, 40)
                power = np.mean(x ** 2, axis=0)
                x = x + rng.normal(size=x.shape) * np.sqrt(power / 10 ** (snr / 10))
            if rng.random() < 0.3:  # AmplitudeScale(0.9, 1.1)
                x = x * rng.uniform(0.9, 1.1)
            if rng.random() < 0.3:  # TimeStretch(0.95, 1.05): resample, keep the length
                rate = rng.uniform(0.95, 1.05)
                pos = np.arange(t) / rate
                pos = np.where(pos > t - 1, 2 * (t - 1) - pos, pos)  # reflect the tail
                x = np.stack([np.interp(pos, np.arange(t), x[:, c]) for c in range(x.shape[1])], axis=1)
        return torch.from_numpy(np_spectrum(x)), int(self.y[i])


class ReferenceLoop:
    """The straightforward loop, one epoch per :meth:`epoch` call; keeps the best-validation weights as fit does."""

    def __init__(self, adapter, seed: int = 0, lr: float = 1e-3, device: str = "cpu") -> None:
        tr, va, te = (adapter.dataset(p) for p in ("train", "val", "test"))
        self.device = torch.device(device)
        g = torch.Generator().manual_seed(seed)
        self.train_loader = torch.utils.data.DataLoader(ReferenceDataset(tr.x, tr.y, True, seed), 32, shuffle=True,
                                                        generator=g)
        self.val_loader = torch.utils.data.DataLoader(ReferenceDataset(va.x, va.y, False), 32)
        self.test_loader = torch.utils.data.DataLoader(ReferenceDataset(te.x, te.y, False), 32)
        self.model = build_model("lstm", seed=seed, classes=len(adapter.classes)).to(self.device)
        # the straightforward loop runs each LSTM layer as one oneDNN call on all cores, as nn.LSTM does;
        # cutting the batch into per-core shards is one of our speed-ups (StackedLSTM.cpu_shards)
        self.model.lstm.cpu_shards = 1
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()
        self.best_f1, self.best_state = -1.0, None
        self.seed, self.done = seed, 0

    def predict(self, loader):
        self.model.eval()
        with torch.no_grad():
            out = [(self.model(xb.to(self.device)).argmax(1).cpu(), yb) for xb, yb in loader]
        return torch.cat([p for p, _ in out]).numpy(), torch.cat([y for _, y in out]).numpy()

    def epoch(self) -> float:
        from sklearn.metrics import f1_score

        t0 = time.perf_counter()
        self.model.train()
        # dropout draws from the global RNG, which the interleaved loops share: seed it per epoch, so the
        # reference's accuracy depends on its seed alone (fit reseeds its own streams the same way)
        devices = [self.device.index or 0] if self.device.type == "cuda" else []  # manual_seed seeds CUDA too
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(1000 * self.seed + self.done)
            for xb, yb in self.train_loader:
                xb, yb = xb.to(self.device), yb.to(self.device)
                loss = self.loss_fn(self.model(xb), yb)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
        self.done += 1
        pred, y = self.predict(self.val_loader)
        seconds = time.perf_counter() - t0
        f1 = f1_score(y, pred, average="macro")
        if f1 > self.best_f1:
            self.best_f1, self.best_state = f1, copy.deepcopy(self.model.state_dict())
        return seconds

    def test(self) -> tuple[float, float]:
        from sklearn.metrics import accuracy_score, f1_score

        self.model.load_state_dict(self.best_state)
        pred, y = self.predict(self.test_loader)
        return accuracy_score(y, pred), f1_score(y, pred, average="macro")


# ----------------------------------------------------------------------------- ours and bare
class OursLoop:
    """``seiswork.fit``, advanced one epoch per :meth:`epoch` call by resuming its own checkpoint.

    ``fit(epochs=k, resume=True)`` continues the run in ``checkpoint_dir`` to epoch ``k``, with the same result
    as one uninterrupted call (tested in tests/test_training_checkpoints.py), so the loops can be interleaved epoch by epoch.
    """

    def __init__(self, adapter, folder: Path, batch_size: int, lr: float, amp: bool, seed: int = 0,
                 name: str = "lstm", device: str | None = None, cpu_shards: int | None = None, **model_kw) -> None:
        self.train, self.val, self.test_ds = (adapter.dataset(p) for p in ("train", "val", "test"))
        self.train_t, self.eval_t = default_pipelines(FFT_SIZE, seed=seed, representation="spectrum")
        self.model = build_model(name, seed=seed, classes=len(adapter.classes), **model_kw)
        self.model.lstm.cpu_shards = cpu_shards
        self.kw = dict(batch_size=batch_size, lr=lr, train_transform=self.train_t, eval_transform=self.eval_t,
                       seed=seed, patience=None, amp=amp, progress=False, checkpoint_dir=folder, resume=True,
                       device=device)
        self.done, self.result = 0, None

    def epoch(self) -> float:
        self.done += 1
        self.result = fit(self.model, self.train, self.val, epochs=self.done, **self.kw)
        return float(self.result.history["seconds"].iloc[-1])

    def test(self) -> dict:
        return evaluate(self.result.model, self.test_ds, transform=self.eval_t)


def ours_run(adapter, epochs: int, batch_size: int, lr: float, amp: bool, seed: int = 0, name: str = "lstm",
             patience: int | None = None, **model_kw):
    """One ``fit`` call and the test report."""
    tr, va, te = (adapter.dataset(p) for p in ("train", "val", "test"))
    train_t, eval_t = default_pipelines(FFT_SIZE, seed=seed, representation="spectrum")
    model = build_model(name, seed=seed, classes=len(adapter.classes), **model_kw)
    res = fit(model, tr, va, epochs=epochs, batch_size=batch_size, lr=lr, train_transform=train_t,
              eval_transform=eval_t, seed=seed, patience=patience, amp=amp, progress=False)
    return res, evaluate(res.model, te, transform=eval_t)


class BareLoop:
    """Model steps alone on ready spectra (forward + backward + clip + AdamW step per batch, then a validation
    forward): what ``fit`` would cost if augmentation, FFT, metrics and checkpoints were free. The steps run in
    the same thread setting as ``fit``'s (``seiswork.training.cpu_threads``: on the CPU, a model that wants the
    cores for its shard workers at this batch size gets them)."""

    def __init__(self, adapter, batch_size: int, lr: float, amp: bool, seed: int = 0, device: str = "cpu") -> None:
        tr, va = adapter.dataset("train"), adapter.dataset("val")
        _, eval_t = default_pipelines(FFT_SIZE, seed=seed, representation="spectrum")
        self.device = torch.device(device)
        # fit's mixed precision: bf16 autocast on the CPU, fp16 on CUDA (fit adds a gradient scaler there)
        self.amp_dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        with torch.no_grad():
            self.xs = eval_t(torch.from_numpy(tr.x).to(self.device))
            self.xv = eval_t(torch.from_numpy(va.x).to(self.device))
        self.ys = torch.from_numpy(tr.y).to(self.device)
        self.model = build_model("lstm", seed=seed, classes=len(adapter.classes)).to(self.device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=1e-4)
        self.loss_fn = nn.CrossEntropyLoss()
        self.g = torch.Generator().manual_seed(seed)
        self.batch_size, self.amp = batch_size, amp

    def epoch(self) -> float:
        with cpu_threads(self.model, self.device, self.batch_size, grad=True):
            return self._epoch()

    def _epoch(self) -> float:
        t0 = time.perf_counter()
        model, bs = self.model, self.batch_size
        model.train()
        order = torch.randperm(len(self.ys), generator=self.g)
        for i in range(0, len(self.ys), bs):
            idx = order[i:i + bs]
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
                out = model(self.xs[idx.to(self.device)])
            loss = self.loss_fn(out.float(), self.ys[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            self.opt.step()
        model.eval()
        with torch.no_grad(), torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            for i in range(0, len(self.xv), 256):
                model(self.xv[i:i + 256])
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0


def steady(seconds: list[float]) -> float:
    """Epoch time: the fastest epoch after the first (warm-up) one.

    The minimum, as ``timeit`` reports: on a shared machine background load only ever adds time, so the
    fastest epoch is the best estimate of what the loop itself costs.
    """
    return float(np.min(seconds[1:] if len(seconds) > 1 else seconds))


# ----------------------------------------------------------------------------- sections
def speed_section(args) -> None:
    import tempfile

    t0 = time.perf_counter()
    adapter = synthetic_adapter(args.events)
    n = {p: len(adapter.dataset(p)) for p in ("train", "val", "test")}
    print(f"data: synthetic make_events(n_events={args.events}) -> x {adapter.x.shape} "
          f"(train/val/test {n['train']}/{n['val']}/{n['test']}), built in {time.perf_counter() - t0:.1f} s")
    print(f"model: LSTMModel(hidden=64, layers=2), {sum(p.numel() for p in LSTMModel().parameters())} parameters; "
          f"{args.epochs} epochs each, loops interleaved epoch by epoch (a busy machine slows all alike); "
          f"torch threads {torch.get_num_threads()}, device {args.device}", flush=True)

    dev = args.device
    mode = "fp32" if args.fp32 else ("fp16 autocast" if dev.startswith("cuda") else "bf16 autocast")
    seconds: dict[str, list[float]] = {}
    epochs: dict[str, list[float]] = {}
    acc: dict[str, list[float]] = {}
    f1: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            amp = not args.fp32
            loops = {"ours": OursLoop(adapter, Path(tmp) / "ours", args.batch_size, args.lr, amp=amp, seed=seed,
                                      device=dev),
                     "bare": BareLoop(adapter, args.batch_size, args.lr, amp=amp, seed=seed, device=dev),
                     "reference": ReferenceLoop(adapter, seed=seed, device=dev)}
            if args.amp_study:
                loops["ours_fp32"] = OursLoop(adapter, Path(tmp) / "fp32", args.batch_size, args.lr, amp=False,
                                              seed=seed, device=dev)
            if args.shard_study:
                loops["ours_1shard"] = OursLoop(adapter, Path(tmp) / "1shard", args.batch_size, args.lr, amp=amp,
                                                seed=seed, device=dev, cpu_shards=1)
            run: dict[str, list[float]] = {k: [] for k in loops}
            for e in range(args.epochs):
                for name, loop in loops.items():
                    run[name].append(loop.epoch())
                print(f"  seed {seed} epoch {e + 1}: "
                      + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in run.items() if len(v) > e), flush=True)
            for name, loop in loops.items():
                seconds.setdefault(name, []).append(steady(run[name]))
                epochs.setdefault(name, []).extend(run[name][1:])  # in step with the other loops' epochs
                if name == "bare":
                    continue
                report = loop.test()
                a, f = (report["accuracy"], report["macro_f1"]) if isinstance(report, dict) else report
                acc.setdefault(name, []).append(a)
                f1.setdefault(name, []).append(f)
            print(f"  seed {seed} test accuracy: "
                  + ", ".join(f"{k} {v[-1]:.4f}" for k, v in acc.items()), flush=True)
    times = {k: min(v) for k, v in seconds.items()}

    def quality(name: str) -> str:
        a, f = np.array(acc[name]), np.array(f1[name])
        return f"test acc {a.mean():.4f} +- {a.std():.4f}  macro F1 {f.mean():.4f}"

    def paired(a: str, b: str) -> float:
        # the loops run one epoch each in turn, so epoch k of each saw the same machine: the median ratio of those
        # pairs is robust to a busy spell that the fastest epochs may or may not catch
        return float(np.median(np.array(epochs[a]) / np.array(epochs[b])))

    print(f"\nepoch time (train + validation pass; fastest epoch after the first, over all runs), and test accuracy: "
          f"mean +- sd over {args.seeds} seed(s):")
    print(f"  ours      fit(batch {args.batch_size}, lr {args.lr}, {mode}): {times['ours']:6.2f} s   {quality('ours')}")
    print(f"  bare      model step on ready spectra, same batch and precision: {times['bare']:6.2f} s")
    print(f"  reference numpy Dataset + DataLoader(32), fp32, lr 1e-3: {times['reference']:6.2f} s   "
          f"{quality('reference')}")
    if args.amp_study:
        print(f"  ours      fit(batch {args.batch_size}, lr {args.lr}, fp32): {times['ours_fp32']:6.2f} s   "
              f"{quality('ours_fp32')}")
    if args.shard_study:
        print(f"  ours      fit(...) without CPU shards (StackedLSTM.cpu_shards = 1): {times['ours_1shard']:6.2f} s   "
              f"{quality('ours_1shard')}")
        print(f"CPU shards: unsharded / sharded epoch time {times['ours_1shard'] / times['ours']:.2f}x")
    print(f"speed-up reference / ours: {times['reference'] / times['ours']:5.2f}x fastest epochs, "
          f"{paired('reference', 'ours'):5.2f}x median of paired epochs   (target >= 2)")
    print(f"overhead ours / bare:      {times['ours'] / times['bare']:5.2f}x fastest epochs, "
          f"{paired('ours', 'bare'):5.2f}x median of paired epochs   (target <= 1.15)")
    diff = 100 * (np.mean(acc["ours"]) - np.mean(acc["reference"]))
    print(f"test accuracy ours - reference: {diff:+.2f} points, mean over seeds  (target within 1)")
    if args.amp_study:
        print(f"mixed precision: fp32 / bf16 epoch time {times['ours_fp32'] / times['ours']:.2f}x, test accuracy "
              f"bf16 - fp32 {100 * (np.mean(acc['ours']) - np.mean(acc['ours_fp32'])):+.2f} points")


def norm_section(args) -> None:
    from seiswork.models import INPUT_NORMS

    adapter = synthetic_adapter(args.events)
    print(f"\ninput normalisation study: LSTMModel(hidden=64, layers=2), {args.epochs} epochs, batch "
          f"{args.batch_size}, bf16, data x {adapter.x.shape}")
    for norm in INPUT_NORMS:
        res, report = ours_run(adapter, args.epochs, args.batch_size, args.lr, amp=True, input_norm=norm)
        print(f"  input_norm={norm!r:12} best val macro F1 {res.best_score:.4f}  test acc {report['accuracy']:.4f}  "
              f"macro F1 {report['macro_f1']:.4f}", flush=True)


def attention_section(args) -> None:
    adapter = synthetic_adapter(args.events)
    print(f"\nattention dropout study: LSTMAttentionModel(hidden=64, layers=2, heads=2, dropout=0.3), {args.epochs} "
          f"epochs, batch {args.batch_size}, lr {args.lr}, bf16, data x {adapter.x.shape}, {args.seeds} seed(s)")
    for p in (0.3, 0.0):
        accs, f1s, secs = [], [], []
        for seed in range(args.seeds):
            res, report = ours_run(adapter, args.epochs, args.batch_size, args.lr, amp=True, seed=seed,
                                   name="lstm_attention", attention_dropout=p)
            accs.append(report["accuracy"])
            f1s.append(report["macro_f1"])
            secs.append(steady(list(res.history["seconds"])))
        print(f"  attention_dropout={p}: epoch {min(secs):.2f} s  test acc {np.mean(accs):.4f} +- {np.std(accs):.4f}  "
              f"macro F1 {np.mean(f1s):.4f}  (per seed: {', '.join(f'{a:.4f}' for a in accs)})", flush=True)


def spectrogram_section(args) -> None:
    adapter = synthetic_adapter(args.events)
    tr, va, te = (adapter.dataset(p) for p in ("train", "val", "test"))
    amp = not args.fp32
    print(f"\nrepresentation study: hidden 64, layers 2, {args.epochs} epochs, batch {args.batch_size}, lr {args.lr}, "
          f"{'bf16' if amp else 'fp32'}, data x {adapter.x.shape} at 100 Hz, device {args.device}")
    # the spectrogram with and without each bin against its background (the default doubles the features), and
    # with the models' optional input projection (projection=True, off by default)
    inputs = (("spectrum", "spectrum", {}, {}), ("spectrogram", "spectrogram", {}, {}),
              ("spectrogram, no background", "spectrogram", {"background": False}, {}),
              ("spectrogram, projection", "spectrogram", {}, {"projection": True}))
    for name in ("lstm", "lstm_attention"):
        secs = {}
        for label, rep, kwargs, model_kw in inputs:
            train_t, eval_t = default_pipelines(FFT_SIZE, seed=0, representation=rep, sampling_rate=100.0, **kwargs)
            shape = tuple(eval_t(torch.from_numpy(tr.x[:1])).shape[1:])
            model = build_model(name, seed=0, channels=shape[1], classes=len(adapter.classes), **model_inputs(rep),
                                **model_kw)
            res = fit(model, tr, va, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      train_transform=train_t, eval_transform=eval_t, seed=0, patience=None, amp=amp,
                      progress=False, device=args.device)
            report = evaluate(res.model, te, transform=eval_t)
            secs[label] = steady(list(res.history["seconds"]))
            print(f"  {name:15} {label:26} input {shape}: epoch {secs[label]:.2f} s  test acc "
                  f"{report['accuracy']:.4f}  macro F1 {report['macro_f1']:.4f}", flush=True)
        for label, *_ in inputs[1:]:
            print(f"  {name:15} spectrum / {label} epoch time {secs['spectrum'] / secs[label]:.1f}x (target >= 3)",
                  flush=True)


def realdata_section(args) -> None:
    print()
    if not REALDATA.is_file():
        print(f"real data: skipped, {REALDATA} not found")
        return
    from seiswork.data.load import load_events

    loaded = load_events([REALDATA], verbose=False)
    adapter = WaveformDataAdapter(loaded, seed=0, verbose=False)
    n = {p: len(adapter.dataset(p)) for p in ("train", "val", "test")}
    print(f"real data: {REALDATA.name}, x {adapter.x.shape}, classes {[str(c) for c in adapter.classes]}, split grouped by "
          f"event id: train/val/test {n['train']}/{n['val']}/{n['test']}; {args.real_epochs} epochs max, "
          f"patience 8, batch 32, bf16")
    for name in ("lstm", "lstm_attention"):
        t0 = time.perf_counter()
        res, report = ours_run(adapter, args.real_epochs, 32, args.lr, amp=True, name=name, patience=8)
        print(f"  {name:15} test balanced acc {report['balanced_accuracy']:.4f}  macro F1 {report['macro_f1']:.4f}  "
              f"ROC-AUC {report['roc_auc']:.4f}  (best epoch {res.best_epoch}, {time.perf_counter() - t0:.0f} s)",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=4433, help="synthetic events (default 4433)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per loop (default 8)")
    p.add_argument("--batch-size", type=int, default=64, help="our batch size (the reference uses 32)")
    p.add_argument("--lr", type=float, default=2e-3, help="our learning rate (the reference uses 1e-3)")
    p.add_argument("--seeds", type=int, default=3, help="runs with seeds 0..N-1: accuracy mean and sd (default 3)")
    p.add_argument("--fp32", action="store_true", help="run ours in fp32 (default: bf16 autocast)")
    p.add_argument("--amp-study", action="store_true", help="also run ours in fp32 to measure mixed precision")
    p.add_argument("--shard-study", action="store_true", help="also run ours without CPU shards (StackedLSTM.cpu_shards)")
    p.add_argument("--norm-study", action="store_true", help="compare the models' input normalisations")
    p.add_argument("--attention-study", action="store_true",
                   help="LSTMAttentionModel with and without dropout on the attention weights")
    p.add_argument("--spectrogram-study", action="store_true",
                   help="epoch time and accuracy of the models on the spectrum and on the spectrogram")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-realdata", action="store_true")
    p.add_argument("--real-epochs", type=int, default=30)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="where all three loops train (default: CUDA when present; the reference's numpy "
                        "augmentation stays on the CPU, as it would for its user)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.skip_speed:
        speed_section(args)
    if args.norm_study:
        norm_section(args)
    if args.attention_study:
        attention_section(args)
    if args.spectrogram_study:
        spectrogram_section(args)
    if not args.skip_realdata:
        realdata_section(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
