"""The CPU kernel backend: compiled (numba) kernels for augmentation draws, the Welch spectrum and the log
spectrogram, and the one place that decides between them and torch (:func:`use_kernels`).

The torch code in :mod:`seiswork.functional` runs each augmentation as a few whole-batch passes (a gather, a
copy back through ``RandomApply``'s selection, a multiply, ...), each one streaming the batch through memory.
On the CPU these kernels instead take one event at a time through every step while it sits in the core's cache,
and split the batch between the cores (one worker thread per core, :func:`seiswork.threads.width`, from the pool
the LSTM shards use). They compute what :mod:`seiswork.functional` computes, in float32 with power sums in
float64, so results agree with the torch path to float rounding (tests/test_kernels.py) and do not depend on how
the batch is split; CUDA tensors and anything these kernels do not cover take the torch path.

- :class:`Program`: an augmentation draw as kernel steps (shift, noise, scale, stretch, each with a per-event
  on/off mask and per-event parameters). Each augmentation declares its own :class:`Step`
  (``kernel_step``); :func:`seiswork.augment.backend.program` collects them from a ``Compose``/``RandomApply``.
- :func:`augment`: run a program on a batch.
- :func:`spectrum`: the one-sided magnitude spectrum (``welch`` or ``first``), in chunks of events: the kernel
  cuts and windows the frames of a chunk, ``torch.fft.rfft`` transforms them (the same FFT as the torch path),
  the kernel sums the power over segments, while the chunk is still in cache. Given a program it augments each
  chunk first (``seiswork.transforms.Pipeline``'s one pass).
- :func:`spectrogram`: ``SpectrogramTransform``'s log power spectrogram (and each bin against its median over
  the frames), in chunks of events in the same way.

Modules: ``base`` (when the kernels run, how they are compiled and split between threads), ``augment``,
``spectrum``, ``spectrogram``.

The kernels are compiled on first use and cached on disk (``__pycache__``), so later processes start at once.
``SEISWORK_KERNELS=0`` turns them off (the torch path everywhere).
"""

from seiswork.kernels.augment import NOISE, PAD_CODES, SCALE, SHIFT, STRETCH, Program, Step, augment, cumulative_power
from seiswork.kernels.base import available, use_kernels
from seiswork.kernels.spectrogram import spectrogram
from seiswork.kernels.spectrum import spectrum

__all__ = [
    "available", "use_kernels", "Step", "Program", "augment", "spectrum", "spectrogram", "cumulative_power",
    "SHIFT", "NOISE", "SCALE", "STRETCH", "PAD_CODES",
]
