"""Whole transforms: :class:`Pipeline` (augmentation and spectrum in one pass) and :func:`seed_pipeline`."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as torch_module

from seiswork import functional as F
from seiswork.augment import Augmentation, backend
from seiswork.transforms.spectrum import FFTTransform

__all__ = ["Pipeline", "seed_pipeline"]


class Pipeline(nn.Sequential):
    """``nn.Sequential`` for transforms: same modules, same calls, same results, faster on the CPU.

    Where an augmentation (``Compose``, ``RandomApply``, ...) is directly followed by :class:`FFTTransform`, a
    CPU batch ``(B, time, channel)`` float32 tensor goes through both in one pass per chunk of events
    (:func:`seiswork.kernels.spectrum` with the augmentation's draw): each augmented event is cut into spectrum
    frames while it is still in cache, and the augmented batch is never written out. The draw is the one the
    augmentation itself makes (``last_params`` is kept), and the output equals ``fft(aug(x))`` exactly
    (tests/test_transforms.py; speed: ``benchmarks/bench_augment.py --sequential``). Anything else (one event,
    numpy, eval mode, a user's own augmentation or ``forward``, forward hooks) runs module by module, as
    ``nn.Sequential`` does. ``default_pipelines`` and ``load_pipeline`` return this class.
    """

    def forward(self, x: Any) -> Any:
        modules = list(self)
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and isinstance(modules[i], Augmentation) and type(modules[i + 1]) is FFTTransform:
                y = _augmented_spectrum(modules[i], modules[i + 1], x)
                if y is not None:
                    x, i = y, i + 2
                    continue
            x, i = modules[i](x), i + 1
        return x


def _augmented_spectrum(aug: Augmentation, fft: FFTTransform, x: Any) -> torch.Tensor | None:
    """``fft(aug(x))`` for a float32 batch in training mode, fused when the draw has a kernel program; None
    (nothing drawn) for anything else, which then runs module by module: other inputs, a subclass with its own
    ``forward``, or modules with forward hooks (a fused pass would skip them)."""
    if not (isinstance(x, torch.Tensor) and x.dim() == 3 and x.dtype == torch.float32 and aug.training
            and type(aug).forward is Augmentation.forward and not _hooked(aug) and not _hooked(fft)):
        return None
    F.as_batch(x, type(aug).__name__)  # the same input checks as the augmentation's own forward
    b, t, c = x.shape
    params = aug.draw(b, t, x.device, channels=c)  # drawn before the length check, as module by module
    fft.check_length(x)
    program = backend.program(aug, params, x)
    if program is None:  # the torch path, or no kernel for some module: this same draw module by module
        return fft(aug.apply_params(x, params))
    return F.batch_spectrum(x, fft.fft_size, fft.mode, fft.log, fft.window, program or None)


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or torch_module._global_forward_hooks
                or torch_module._global_forward_pre_hooks)


# ---------------------------------------------------------------------------------------------- seeding
def _derived_seed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0])


def _user_streams(module: nn.Module) -> list[nn.Module]:
    """A user's own random modules: the outermost non-seiswork modules with a ``reseed(seed)`` method
    (their children are theirs to reseed)."""
    if isinstance(module, Augmentation):
        return []
    if callable(getattr(module, "reseed", None)):
        return [module]
    return [m for child in module.children() for m in _user_streams(child)]


def seed_pipeline(module: Any, seed: int) -> None:
    """Reseed every random stream inside ``module`` (an augmentation, Compose, nn.Sequential, ...).

    The streams are the modules that own their generator, in ``module.modules()`` order: the first gets
    ``seed`` itself (so for the usual single outer ``Compose`` this equals ``compose.reseed(seed)``), the k-th
    a seed derived from ``(seed, k)``, so sibling modules never share a stream. A user's own module with a
    ``reseed(seed)`` method is a stream too (after the seiswork ones). Anything that is not an
    ``nn.Module`` (``None``, a plain function) is left alone. Use a different ``seed`` per DataLoader worker.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed_pipeline: seed must be an integer in [0, 2**64), got {seed!r}")
    if not isinstance(module, nn.Module):
        return
    owners = [m for m in module.modules() if isinstance(m, Augmentation) and m.owns_generator]
    owners += _user_streams(module)
    for k, m in enumerate(owners):
        m.reseed(int(seed) if k == 0 else _derived_seed(int(seed), k))
