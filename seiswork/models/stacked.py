"""The recurrent stack of the models: :class:`StackedLSTM` and how it runs a CPU batch in shards.

Chrono-initialised gate biases (without them ``LSTMModel``, which reads its answer from the final state after
257 steps, stays at chance on the synthetic set) and locked dropout between layers. On the CPU a batch is cut
into shards (:func:`shard_sizes`) that run forward and backward concurrently on the worker threads of
:mod:`seiswork.threads`, one core each.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seiswork.threads import run as _run_parts
from seiswork.threads import width as _width

__all__ = ["chrono_init_", "StackedLSTM", "MIN_SHARD", "MAX_TRAIN_SHARD", "MAX_EVAL_SHARD", "shard_sizes",
           "shard_sizes_of", "run_shards"]


def chrono_init_(lstm: nn.LSTM, max_steps: int = 257) -> nn.LSTM:
    """Chrono initialisation (Tallec & Ollivier, ICLR 2018) of an LSTM's gate biases, in place.

    Forget-gate biases ``b_f = log(U(1, max_steps - 1))`` and input-gate biases ``-b_f`` (hidden-to-hidden
    biases of both gates zero): each unit starts with a memory time scale between 1 and ``max_steps`` steps.
    With PyTorch's default (forget gate ~0.5) a state forgets within a few steps, so the final hidden state
    after 257 frequency bins knows only the last bins and gradients to the informative low/mid-frequency
    bins vanish: on the synthetic set ``LSTMModel`` stays at chance with the default initialisation and learns
    within a few epochs with this one. (The vanishing states and gradients also become denormal floats, which
    make fp32 CPU training steps several times slower.)
    Draws from the global torch RNG like any initialisation (seed it with ``build_model(..., seed=...)``).
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 3:
        raise ValueError(f"chrono_init_: max_steps must be an int >= 3 (the longest sequence), got {max_steps!r}")
    h = lstm.hidden_size
    with torch.no_grad():
        for k in range(lstm.num_layers):
            b_ih, b_hh = getattr(lstm, f"bias_ih_l{k}"), getattr(lstm, f"bias_hh_l{k}")
            b_f = torch.log(1 + torch.rand(h) * (max_steps - 2))
            b_ih[h:2 * h] = b_f  # PyTorch gate order: input, forget, cell, output
            b_ih[:h] = -b_f
            b_hh[:2 * h] = 0.0
    return lstm


class StackedLSTM(nn.Module):
    """``layers`` single-layer LSTMs (``batch_first``) with locked dropout between them.

    Same call and outputs as ``nn.LSTM(..., num_layers=layers, batch_first=True)``: ``x (B, T, C)`` ->
    ``(output (B, T, H), (h_n (layers, B, H), c_n (layers, B, H)))``. The difference is the dropout between
    layers: one mask per sequence and hidden unit, shared by all time steps ("variational" dropout, Gal &
    Ghahramani 2016, the dropout that suits recurrent stacks) instead of ``nn.LSTM``'s fresh mask per step.
    Besides, ``nn.LSTM``'s per-element ``bernoulli_`` over ``(B, 257, H)`` is a sizeable part of a CPU training
    step; a ``(B, 1, H)`` mask costs nothing. Each layer is chrono-initialised (:func:`chrono_init_`) for sequences
    of up to ``max_steps`` steps.

    With ``projection`` a ``Linear(input_size -> hidden)`` maps each step's features before the first layer
    (inside the shards). For the hundreds of features of a spectrogram frame this is a low-rank factor of the
    first layer's input weights: the layer's input product costs ``hidden`` instead of ``4 * hidden`` outputs
    per feature.

    On the CPU a batch is cut into ``cpu_shards`` parts (default ``None``: one per core,
    :func:`seiswork.threads.width`, and more when a part would pass ``MAX_TRAIN_SHARD`` sequences in training;
    1 turns it off) that run forward and backward concurrently, each on one core (see :func:`run_shards`).
    Sequences are independent in an LSTM, so this changes nothing but float rounding; the dropout masks are
    drawn for the whole batch first, so a seed gives the same masks either way. Why: the recurrent step is 257
    small matrix products in a row, which oneDNN spreads poorly over cores; independent shards make CPU epochs
    faster (``benchmarks/bench_train.py --shard-study``), and capped shards keep a large training batch from
    falling off a one-core speed cliff (see ``MAX_TRAIN_SHARD``). A model whose CPU work is nearly all in the
    shards says so (``wants_cores_for_shards``, as ``LSTMModel``) and ``fit`` runs its sharded batches inside
    :func:`seiswork.threads.cores_to_workers`, so nothing else spins on the shards' cores.
    """

    def __init__(self, input_size: int, hidden: int, layers: int, dropout: float, max_steps: int = 257,
                 projection: bool = False) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden, layers, dropout
        self.cpu_shards: int | None = None
        self.projection = nn.Linear(input_size, hidden) if projection else None
        first = hidden if projection else input_size
        self.layers = nn.ModuleList(
            chrono_init_(nn.LSTM(first if k == 0 else hidden, hidden, batch_first=True), max_steps)
            for k in range(layers)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        masks: list[torch.Tensor | None] = [None]
        for _ in range(1, self.num_layers):
            mask = None
            if self.training and self.dropout > 0:
                keep = 1.0 - self.dropout
                mask = torch.empty(x.shape[0], 1, self.hidden_size, device=x.device, dtype=x.dtype).bernoulli_(keep)
                mask /= keep
            masks.append(mask)
        params = list(self.parameters())
        grad = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in params))
        shards = shard_sizes_of(x, self.cpu_shards, grad)
        if len(shards) == 1:
            return self._run(x, masks)
        autocast = (torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))
        if grad:
            out, h_n, c_n = _ParallelShards.apply(self, shards, masks, autocast, x, *params)
            return out, (h_n, c_n)
        parts = run_shards(self._run, x, masks, shards, autocast, grad=False)
        return _join([p[1] for p in parts])

    def _run(self, x: torch.Tensor, masks: list[torch.Tensor | None]):
        if self.projection is not None:
            x = self.projection(x)
        h_n, c_n = [], []
        for lstm, mask in zip(self.layers, masks):
            if mask is not None:
                x = x * mask
            x, (h, c) = lstm(x)
            h_n.append(h)
            c_n.append(c)
        return x, (torch.cat(h_n), torch.cat(c_n))

    def sharded(self, batch_size: int, grad: bool) -> bool:
        """Whether a CPU batch of ``batch_size`` sequences runs in more than one shard."""
        return len(shard_sizes(batch_size, self.cpu_shards, grad)) > 1

    def extra_repr(self) -> str:
        projection = ", projection" if self.projection is not None else ""
        return f"layers={self.num_layers}, hidden={self.hidden_size}, dropout={self.dropout} (locked){projection}"


# --------------------------------------------------------------------------- CPU shards
# smaller shards cost more in thread hand-offs than they gain (benchmarks/bench_train.py --shard-study)
MIN_SHARD = 32
# Past 40 sequences a buffer of a training step passes glibc's 32 MiB mmap limit and is page-faulted in afresh
# at every step; forward passes alone keep their speed up to 128 sequences.
MAX_TRAIN_SHARD = 40
MAX_EVAL_SHARD = 128


def shard_sizes_of(x: torch.Tensor, shards: int | None, grad: bool = True) -> list[int]:
    """Batch sizes of the CPU shards of ``x`` (one item: no sharding); see :func:`shard_sizes`."""
    if x.device.type != "cpu" or x.dim() != 3 or torch.jit.is_tracing() or torch.compiler.is_compiling():
        return [x.shape[0]]  # tracers and compilers see one thread
    return shard_sizes(x.shape[0], shards, grad)


def shard_sizes(batch: int, shards: int | None, grad: bool = True) -> list[int]:
    """Sizes of the CPU shards a batch of ``batch`` sequences is cut into (one item: no sharding).

    ``shards=None``: one shard per core (:func:`seiswork.threads.width`), none smaller than ``MIN_SHARD``
    sequences, and as many more as keep each at most ``MAX_TRAIN_SHARD`` sequences (``MAX_EVAL_SHARD`` without
    ``grad``; that cap wins over ``MIN_SHARD``: a training batch of 48 becomes two shards of 24). The workers
    run the shards in turn. An int asks for that many, none smaller than ``MIN_SHARD``.
    """
    if shards is None:
        n = max(min(_width(), batch // MIN_SHARD), -(-batch // (MAX_TRAIN_SHARD if grad else MAX_EVAL_SHARD)))
    else:
        n = min(int(shards), batch // MIN_SHARD)
    n = max(1, n)
    base, extra = divmod(batch, n)
    return [base + (k < extra) for k in range(n)]


def run_shards(fn, x, masks, shards, autocast, grad: bool) -> list[tuple[torch.Tensor, Any]]:
    """``fn(x_shard, masks_shard)`` for each shard, concurrently; returns ``[(x_shard, fn's result), ...]``.

    Grad mode and CPU autocast are thread-local in torch, so each worker enters the caller's. With ``grad`` each
    shard's input is a fresh leaf (asking for its gradient when ``x`` does), so its graph can be walked back on
    its own (``_ParallelShards.backward``).
    """
    enabled, dtype = autocast
    mask_parts = [[None] * len(shards) if m is None else m.split(shards) for m in masks]

    def work(item):
        xs, ms = item
        if grad:
            xs = xs.detach().requires_grad_(x.requires_grad)
        with torch.set_grad_enabled(grad), torch.autocast("cpu", dtype=dtype, enabled=enabled):
            return xs, fn(xs, ms)

    return _run_parts(work, [(xs, list(ms)) for xs, *ms in zip(x.split(shards), *mask_parts)])


def _join(results) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    out = torch.cat([r[0] for r in results])
    return out, (torch.cat([r[1][0] for r in results], dim=1), torch.cat([r[1][1] for r in results], dim=1))


class _ParallelShards(torch.autograd.Function):
    """Forward and backward of a :class:`StackedLSTM` over CPU shards of the batch, each in its own thread.

    Each shard builds its own graph in its worker; ``backward`` walks the shard graphs back concurrently with
    ``torch.autograd.grad`` (which returns gradients instead of accumulating them in ``.grad``, so the threads
    never write the same tensor) and sums the parameter gradients in shard order: the same seed gives the same
    gradients on every run.
    """

    @staticmethod
    def forward(ctx, stack, shards, masks, autocast, x, *params):
        ctx.set_materialize_grads(False)
        parts = run_shards(stack._run, x, masks, shards, autocast, grad=True)
        ctx.parts, ctx.shards, ctx.params = parts, shards, params
        out, (h_n, c_n) = _join([p[1] for p in parts])
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        if g_out is None and g_h is None and g_c is None:
            return (None,) * (5 + len(ctx.params))
        params = [p for p in ctx.params if p.requires_grad]
        needs_x = ctx.needs_input_grad[4]
        n = len(ctx.shards)
        # each output's gradient cut like the batch: (B, T, H) along dim 0, h_n and c_n (layers, B, H) along dim 1
        g_parts = [[None] * n if g is None else g.split(ctx.shards, dim=d) for g, d in ((g_out, 0), (g_h, 1), (g_c, 1))]

        def work(k: int):
            xs, (out, (h, c)) = ctx.parts[k]
            outs, grads = zip(*[(t, g[k]) for t, g in zip((out, h, c), g_parts) if g[k] is not None])
            return torch.autograd.grad(outs, [xs] * needs_x + params, grads, allow_unused=True)

        results = _run_parts(work, list(range(n)))
        ctx.parts = None  # free the shard graphs
        g_x = torch.cat([r[0] for r in results]) if needs_x else None
        summed = iter([_sum([r[needs_x + i] for r in results]) for i in range(len(params))])
        g_params = [next(summed) if p.requires_grad else None for p in ctx.params]
        return (None, None, None, None, g_x, *g_params)


def _sum(grads: list[torch.Tensor | None]) -> torch.Tensor | None:
    present = [g for g in grads if g is not None]
    return sum(present[1:], present[0]) if present else None  # left to right: a fixed order

