"""Augmentation + spectrum throughput: per-event numpy in a Dataset vs our batched modules.

The straightforward way (how the seed's pipeline runs): a Dataset applies the augmentations to one event at a
time in numpy (``np.roll``, ``rng.normal``, scaling, ``np.interp`` per channel, ``np.fft.rfft``) and a DataLoader
(batch 32, no workers) collates. Against it: ``Pipeline(Compose([...]), FFTTransform, ToTensor())`` applied to
batch tensors of 32 and 256 events sliced from one array (the training loop's fast path; ``Pipeline`` is the
``nn.Sequential`` that ``default_pipelines`` returns, which runs augmentation and spectrum in one pass on the
CPU). Also our modules per event inside the same Dataset/DataLoader, for reference.

Both sides do the same FFT work in each comparison: ``first`` = rfft of the first 512 samples (the seed's naive
spectrum, no window), ``welch`` = Hann-windowed 512-sample segments with 50% overlap over the whole event
(FFTTransform's default). Rows: p = 0 (spectrum only), the seed's probabilities, p = 1 (every augmentation on
every event). Rates are samples per CPU second of this process (the machine is shared), torch limited to 1 thread as numpy
is: both sides get one core. ``--wall --threads 2`` measures wall time with torch on both cores against the
reference as the issue states it (DataLoader without workers: one core); ``--ref-workers 2`` gives the
reference both cores too. Each rate is the best of ``--repeat`` runs; "x" is batched / per-event numpy.
The batched side runs after :func:`seiswork.training.runtime.retain_freed_memory`, as ``fit`` does (``--no-retain``: off).
On the CPU it runs seiswork's compiled kernels (:mod:`seiswork.kernels`); ``--torch-path`` adds the rates of
the module-by-module torch code (what CUDA runs) at batch 256, to show what the kernels gain, and
``--sequential`` the rates of a plain ``nn.Sequential`` of the same modules at batch 256 (kernels module by
module, no fused pass).

``--spectrogram`` adds ``SpectrogramTransform`` (the default representation) per batch of 64, compiled kernel
against the torch path on the same cores (``--threads``: kernel worker threads, torch threads), wall time, for a
100 Hz window of 17 s and a 40 Hz window of 175 s, with and without each bin against its background.

    python benchmarks/bench_augment.py              # full size (4433, 1700, 3)
    python benchmarks/bench_augment.py --events 500 # quick
    python benchmarks/bench_augment.py --threads 2 --spectrogram
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch
from seiswork.threads import cores_to_workers
from seiswork.training.runtime import retain_freed_memory
from seiswork.transforms import FFTTransform, Pipeline, SpectrogramTransform, ToTensor
from seiswork.transforms.spectrogram import spectrogram_size

SEED_P = {"shift": 0.5, "noise": 0.5, "scale": 0.3, "stretch": 0.3}
ALL_P = {k: 1.0 for k in SEED_P}
NO_P = {k: 0.0 for k in SEED_P}  # spectrum only: shows the per-event overhead alone
FFT_SIZE = 512
clock = time.process_time  # CPU seconds of this process: the machine is shared, wall time is not ours


# ---------------------------------------------------------------------------------------------- per-event numpy
class NumpySeedPipeline:
    """The seed's augmentations for one event (time, channel), written the straightforward numpy way."""

    def __init__(self, p: dict, fft_mode: str, seed: int = 0) -> None:
        self.p, self.fft_mode = p, fft_mode
        self.rng = np.random.default_rng(seed)
        self.window = np.hanning(FFT_SIZE + 1)[:-1].astype(np.float32)  # periodic Hann, as FFTTransform

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rng, t = self.rng, x.shape[0]
        if rng.random() < self.p["shift"]:
            k = int(0.1 * t)
            x = np.roll(x, rng.integers(-k, k + 1), axis=0)
        if rng.random() < self.p["noise"]:
            snr = rng.uniform(15, 40)
            std = np.sqrt(np.mean(x**2) / 10 ** (snr / 10))
            x = x + rng.normal(0.0, std, size=x.shape)
        if rng.random() < self.p["scale"]:
            x = x * rng.uniform(0.9, 1.1)
        if rng.random() < self.p["stretch"]:
            rate = rng.uniform(0.95, 1.05)
            pos, grid = np.arange(t) / rate, np.arange(t)
            x = np.stack([np.interp(pos, grid, x[:, c]) for c in range(x.shape[1])], axis=1)
        if self.fft_mode == "first":
            spec = np.abs(np.fft.rfft(x[:FFT_SIZE], axis=0))
        else:
            hop = FFT_SIZE // 2
            starts = list(range(0, t - FFT_SIZE + 1, hop))
            if starts[-1] != t - FFT_SIZE:
                starts.append(t - FFT_SIZE)
            segs = np.stack([x[s : s + FFT_SIZE] for s in starts]) * self.window[None, :, None]
            power = np.abs(np.fft.rfft(segs, axis=1)) ** 2
            spec = np.sqrt(power.mean(axis=0) / np.sum(self.window**2))
        return spec.astype(np.float32)


class EventDataset(Dataset):
    def __init__(self, x: np.ndarray, transform) -> None:
        self.x, self.transform = x, transform

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        y = self.transform(self.x[i])
        return (y if isinstance(y, torch.Tensor) else torch.from_numpy(y)), 0


def best_of(repeat: int, measure) -> float:
    """The best of ``repeat`` rates: other jobs on a shared machine only ever slow a run down."""
    return max(measure() for _ in range(repeat))


def per_event_rate(x: np.ndarray, transform, workers: int = 0) -> float:
    loader = DataLoader(EventDataset(x, transform), batch_size=32, shuffle=False, num_workers=workers)
    start = clock()
    n = 0
    for xb, _ in loader:
        n += xb.shape[0]
    return n / (clock() - start)


# ---------------------------------------------------------------------------------------------- batched
def seiswork_pipeline(p: dict, fft_mode: str, seed: int = 0, container: type = Pipeline) -> nn.Sequential:
    window = "boxcar" if fft_mode == "first" else "hann"  # "first" mirrors the naive rfft (no window)
    return container(
        Compose(
            [
                RandomApply(TimeShift(max_shift=0.1), p=p["shift"]),
                RandomApply(AddNoise(snr_min=15, snr_max=40), p=p["noise"]),
                RandomApply(AmplitudeScale(0.9, 1.1), p=p["scale"]),
                RandomApply(TimeStretch(0.95, 1.05), p=p["stretch"]),
            ],
            seed=seed,
        ),
        FFTTransform(fft_size=FFT_SIZE, mode=fft_mode, window=window),
        ToTensor(),
    )


def batched_rate(x: torch.Tensor, pipe: nn.Module, batch: int) -> float:
    pipe(x[:batch])  # warm-up (allocator, FFT plans)
    if x.is_cuda:
        torch.cuda.synchronize()
    start = clock()
    for i in range(0, len(x), batch):
        pipe(x[i : i + batch])
    if x.is_cuda:
        torch.cuda.synchronize()
    return len(x) / (clock() - start)


def spectrogram_section(threads: int, repeat: int) -> None:
    """Milliseconds per batch of 64: the compiled kernel (``threads`` workers) and the torch path (``threads``
    torch threads), side by side."""
    print(f"\nSpectrogramTransform, batch of 64 events, 3 channels, ms per batch (wall, best of {repeat}), "
          f"{threads} thread(s) each")
    print(f"{'window':>16} {'background':>10} | {'kernel':>8} | {'torch':>8} | {'x':>5}")
    rng = np.random.default_rng(0)
    for rate, seconds in ((100.0, 17.0), (40.0, 175.0)):
        x = torch.from_numpy(rng.standard_normal((64, int(rate * seconds), 3), dtype=np.float32))
        for background in (False, True):
            st = SpectrogramTransform(*spectrogram_size(rate), sampling_rate=rate, background=background)

            def ms() -> float:
                st(x)  # compiled and warm
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    st(x)
                    times.append(time.perf_counter() - t0)
                return 1e3 * min(times)

            with cores_to_workers(threads):
                fast = ms()
            os.environ["SEISWORK_KERNELS"] = "0"
            slow = ms()
            os.environ["SEISWORK_KERNELS"] = "1"
            window = f"{rate:g} Hz, {seconds:g} s"
            print(f"{window:>16} {str(background):>10} | {fast:8.2f} | {slow:8.2f} | {slow / fast:4.1f}x", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=4433, help="number of events (default 4433)")
    ap.add_argument("--length", type=int, default=1700)
    ap.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1: numpy's side is single-threaded too, and on a busy 2-core machine "
        "multi-threaded small ops wait for a free core)",
    )
    ap.add_argument("--wall", action="store_true", help="time with the wall clock instead of process CPU time")
    ap.add_argument("--ref-workers", type=int, default=0, help="DataLoader workers of the per-event sides (with --wall)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per rate; the best counts (default 5)")
    ap.add_argument("--no-retain", action="store_true", help="leave glibc's default of returning freed memory")
    ap.add_argument("--cuda-only", action="store_true", help="only the CUDA rates (skip the CPU table)")
    ap.add_argument("--torch-path", action="store_true", help="also the torch path at batch 256 (kernels off)")
    ap.add_argument("--sequential", action="store_true",
                    help="also a plain nn.Sequential at batch 256 (kernels module by module, no fused pass)")
    ap.add_argument("--spectrogram", action="store_true",
                    help="only the spectrogram: compiled kernel against the torch path, per batch of 64")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.spectrogram:
        spectrogram_section(args.threads, max(args.repeat, 10))
        return
    global clock
    if args.wall:
        clock = time.perf_counter
    elif args.ref_workers:
        ap.error("--ref-workers needs --wall: the workers' CPU time is not this process's")
    retained = False if args.no_retain else retain_freed_memory()

    data = np.random.default_rng(0).standard_normal((args.events, args.length, 3), dtype=np.float32)
    xt = torch.from_numpy(data)
    print(
        f"data {data.shape} float32, torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"per-event workers {args.ref_workers}, samples per {'wall' if args.wall else 'CPU'} second, best of "
        f"{args.repeat}, freed memory retained: {retained}"
    )
    header = f"{'p':>5} {'fft':>6} | {'numpy/event':>11} | {'ours/event':>10} | {'batch 32':>9} {'x':>6} | {'batch 256':>9} {'x':>6}"
    if args.sequential:
        header += f" | {'seq 256':>9} {'x':>6}"
    if args.torch_path:
        header += f" | {'torch 256':>9} {'x':>6}"
    print(header)
    print("-" * len(header))
    for p_name, p in () if args.cuda_only else (("0", NO_P), ("seed", SEED_P), ("1", ALL_P)):
        for fft_mode in ("first", "welch"):
            rep, w = args.repeat, args.ref_workers
            base = best_of(rep, lambda: per_event_rate(data, NumpySeedPipeline(p, fft_mode), w))
            ours_event = best_of(rep, lambda: per_event_rate(data, seiswork_pipeline(p, fft_mode), w))
            r32 = best_of(rep, lambda: batched_rate(xt, seiswork_pipeline(p, fft_mode), 32))
            r256 = best_of(rep, lambda: batched_rate(xt, seiswork_pipeline(p, fft_mode), 256))
            line = (
                f"{p_name:>5} {fft_mode:>6} | {base:11.0f} | {ours_event:10.0f} | {r32:9.0f} {r32 / base:5.1f}x "
                f"| {r256:9.0f} {r256 / base:5.1f}x"
            )
            if args.sequential:
                seq = best_of(rep, lambda: batched_rate(
                    xt, seiswork_pipeline(p, fft_mode, container=nn.Sequential), 256))
                line += f" | {seq:9.0f} {seq / base:5.1f}x"
            if args.torch_path:
                os.environ["SEISWORK_KERNELS"] = "0"
                slow = best_of(rep, lambda: batched_rate(xt, seiswork_pipeline(p, fft_mode), 256))
                os.environ["SEISWORK_KERNELS"] = "1"
                line += f" | {slow:9.0f} {slow / base:5.1f}x"
            print(line, flush=True)
    if torch.cuda.is_available():
        xc = xt.cuda()
        clock = time.perf_counter  # GPU work does not show in this process's CPU time
        for p_name, p in (("seed", SEED_P), ("1", ALL_P)):
            for fft_mode in ("first", "welch"):
                for batch in (256, 1024):
                    r = best_of(args.repeat, lambda: batched_rate(xc, seiswork_pipeline(p, fft_mode), batch))
                    print(f"CUDA p={p_name} fft={fft_mode} batch {batch}: {r:.0f} samples/s")
    else:
        print("CUDA: not available")


if __name__ == "__main__":
    main()
