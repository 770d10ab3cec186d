"""LSTM classifiers that read a spectrum along frequency, and a small registry.

Both models take ``(batch, seq_len, channels)`` — for the default pipeline the one-sided
magnitude spectrum of each channel, ``seq_len = fft_size // 2 + 1 = 257`` frequency bins read
from 0 Hz to Nyquist — and return class logits ``(batch, classes)`` (apply ``softmax`` for
probabilities).

Every model keeps its constructor arguments in ``.config`` (plain Python values), so a
checkpoint holding ``(class name, config, state_dict)`` rebuilds it (see ``seiswork.train.load_model``).

Input normalisation (``input_norm``). The models normalise their input themselves, so they do not depend on
the scale a particular spectrum transform produces (seiswork's ``FFTTransform`` reads about 1 per bin for
white noise of unit variance; other transforms, ``fft_size`` or ``log=True`` give other scales):

- ``"batch"`` (default): a per-channel ``BatchNorm1d`` over (batch, frequency): centres and scales each
  channel with running statistics that are saved in the checkpoint.
- ``"log_batch"``: symmetric log compression ``sign(x) * log1p(|x|)``, then the per-channel batch norm.
- ``"log"``: the log compression alone.
- ``"none"``: the raw input.

Measured (``benchmarks/bench_train.py --norm-study``: synthetic (4433, 1700, 3), 8 epochs, test macro F1):
``"batch"`` 0.848, ``"log_batch"`` 0.829, ``"none"`` 0.832, ``"log"`` 0.713; a two-seed run on 2000 synthetic
events gave ``"batch"`` 0.82/0.83 against ``"log_batch"`` 0.78/0.72, and on the PhaseNet earthquake-vs-noise
recordings ``"batch"``, ``"log_batch"`` and ``"none"`` tie (0.69-0.72) while ``"log"`` alone is worst (0.38-0.57).
Compressing the peaks throws away contrast the classifier uses; the batch norm only rescales.
A LayerNorm over the channel axis is not offered: with 3 channels it normalises across Z/N/E at each
frequency and throws away the spectral shape.

Recurrent stack (:class:`StackedLSTM`): chrono-initialised gate biases (without them ``LSTMModel``, which
reads its answer from the final state after 257 steps, stayed at chance on the synthetic set) and locked
dropout between layers.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from seiswork.threads import run as _run_parts
from seiswork.threads import width as _width

__all__ = [
    "INPUT_NORMS",
    "POOLINGS",
    "LSTMModel",
    "LSTMAttentionModel",
    "MODELS",
    "build_model",
    "model_summary",
    "chrono_init_",
    "StackedLSTM",
    "shard_sizes",
]

INPUT_NORMS = ("batch", "log_batch", "log", "none")
POOLINGS = ("attention", "mean")


# --------------------------------------------------------------------------- validation
def _check_int(name: str, value: Any, minimum: int = 1) -> int:
    # bool is an int subclass; True as a layer count is a bug, not a 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_dropout(value: Any, name: str = "dropout") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float in [0, 1), got {value!r} ({type(value).__name__})")
    if not (0.0 <= float(value) < 1.0) or math.isnan(float(value)):
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _check_input(x: torch.Tensor, channels: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"model input must be a torch.Tensor (batch, seq_len, channels), got {type(x).__name__}")
    if x.dim() != 3 or x.shape[-1] != channels:
        raise ValueError(
            f"model input must have shape (batch, seq_len, channels={channels}), got {tuple(x.shape)}; "
            "a single event needs a batch axis: x.unsqueeze(0)"
        )


# --------------------------------------------------------------------------- building blocks
class InputNorm(nn.Module):
    """Normalise ``(batch, seq_len, channels)`` spectra before the LSTM; see the module docstring."""

    def __init__(self, channels: int, mode: str = "batch") -> None:
        super().__init__()
        self.mode = _check_choice("input_norm", mode, INPUT_NORMS)
        self.log = mode in ("log_batch", "log")
        self.norm = nn.BatchNorm1d(channels) if mode in ("log_batch", "batch") else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.log:
            # symmetric, so an input that is already log-scaled (negative values) stays finite
            x = torch.sign(x) * torch.log1p(x.abs())
        if self.norm is not None:
            # BatchNorm1d wants (batch, channels, length)
            x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        return x

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


def chrono_init_(lstm: nn.LSTM, max_steps: int = 257) -> nn.LSTM:
    """Chrono initialisation (Tallec & Ollivier, ICLR 2018) of an LSTM's gate biases, in place.

    Forget-gate biases ``b_f = log(U(1, max_steps - 1))`` and input-gate biases ``-b_f`` (hidden-to-hidden
    biases of both gates zero): each unit starts with a memory time scale between 1 and ``max_steps`` steps.
    With PyTorch's default (forget gate ~0.5) a state forgets within a few steps, so the final hidden state
    after 257 frequency bins knows only the last bins and gradients to the informative low/mid-frequency
    bins vanish: measured on the synthetic set, ``LSTMModel`` stayed at chance for 10 epochs with the default
    initialisation and learned within 2 epochs with this one. (The vanishing states and gradients also
    become denormal floats: fp32 CPU training steps were about 7 times slower, 12.9 against 1.8 ms per event.)
    Draws from the global torch RNG like any initialisation (seed it with ``build_model(..., seed=...)``).
    """
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
    Besides, ``nn.LSTM``'s per-element ``bernoulli_`` over ``(B, 257, H)`` took 15-20% of a CPU training step;
    a ``(B, 1, H)`` mask costs nothing. Each layer is chrono-initialised (:func:`chrono_init_`).

    On the CPU a batch is cut into ``cpu_shards`` parts (default ``None``: one per core,
    :func:`seiswork.threads.width`, and more when a part would pass ``MAX_TRAIN_SHARD`` sequences in training;
    1 turns it off) that run forward and backward concurrently, each on one core (see :func:`_run_shards`).
    Sequences are independent in an LSTM, so this changes nothing but float rounding; the dropout masks are
    drawn for the whole batch first, so a seed gives the same masks either way. Why: the recurrent step is 257
    small matrix products in a row, which oneDNN spreads poorly over cores; independent shards made CPU epochs
    1.3x faster on 2 cores (``benchmarks/bench_train.py --shard-study``), and capped shards keep a training
    batch of 128 from falling off a one-core speed cliff at 48 sequences (see ``MAX_TRAIN_SHARD``). For models
    with ``cpu_work_in_shards`` (``LSTMModel``) ``fit`` runs sharded batches inside
    :func:`seiswork.threads.cores_to_workers`, so nothing else spins on the shards' cores.
    """

    def __init__(self, input_size: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden, layers, dropout
        self.cpu_shards: int | None = None
        self.layers = nn.ModuleList(
            chrono_init_(nn.LSTM(input_size if k == 0 else hidden, hidden, batch_first=True)) for k in range(layers)
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
        shards = _shard_sizes(x, self.cpu_shards, grad)
        if len(shards) == 1:
            return self._run(x, masks)
        autocast = (torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))
        if grad:
            out, h_n, c_n = _ParallelShards.apply(self, shards, masks, autocast, x, *params)
            return out, (h_n, c_n)
        parts = _run_shards(self._run, x, masks, shards, autocast, grad=False)
        return _join([p[1] for p in parts])

    def _run(self, x: torch.Tensor, masks: list[torch.Tensor | None]):
        h_n, c_n = [], []
        for lstm, mask in zip(self.layers, masks):
            if mask is not None:
                x = x * mask
            x, (h, c) = lstm(x)
            h_n.append(h)
            c_n.append(c)
        return x, (torch.cat(h_n), torch.cat(c_n))

    def extra_repr(self) -> str:
        return f"layers={self.num_layers}, hidden={self.hidden_size}, dropout={self.dropout} (locked)"


# --------------------------------------------------------------------------- CPU shards
# measured on 2 cores: shards of 32 (batch 64) trained 1.35x faster than one call, shards of 16 no faster
MIN_SHARD = 32
# Measured on one core (bf16 training step of LSTMModel): about 2,400 sequences/s in shards of 32 or 40, 1,350/s
# in shards of 48 or 64, where a buffer of the step passes glibc's 32 MiB mmap limit and is page-faulted in
# afresh at every step. Forward passes alone keep their speed up to 128 sequences (10,000/s; 7,900/s at 256).
MAX_TRAIN_SHARD = 40
MAX_EVAL_SHARD = 128


def _shard_sizes(x: torch.Tensor, shards: int | None, grad: bool = True) -> list[int]:
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


def _run_shards(fn, x, masks, shards, autocast, grad: bool) -> list[tuple[torch.Tensor, Any]]:
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
        parts = _run_shards(stack._run, x, masks, shards, autocast, grad=True)
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


class _ConfigMixin:
    """``.config`` holds the constructor arguments; ``repr`` of a model shows them first.

    ``cpu_work_in_shards``: True when nearly all of a training step's CPU work runs in the
    :class:`StackedLSTM`'s shards, so ``fit`` can give all cores to the shard workers
    (:func:`seiswork.threads.cores_to_workers`). False keeps torch's threads for the rest of the model.
    """

    config: dict[str, Any]
    cpu_work_in_shards = False

    def extra_repr(self) -> str:  # nn.Module prints this on the first line
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())


# --------------------------------------------------------------------------- models
class LSTMModel(_ConfigMixin, nn.Module):
    """Stacked LSTM over the frequency axis; classifies from the last layer's final hidden state.

    Architecture (B batch, T seq_len, C channels, H hidden, K classes)::

        x                         (B, T, C)
        InputNorm(input_norm)     (B, T, C)
        StackedLSTM(C -> H,       (B, T, H) outputs; h_n (layers, B, H)
             layers, locked       (gate biases chrono-initialised: see StackedLSTM)
             dropout between)
        h_n[-1]                   (B, H)     final hidden state of the last layer
        Dropout(dropout)          (B, H)
        Linear(H -> K)            (B, K)     logits

    Args:
        channels: input features per step (3 for Z, N, E).
        classes: number of classes (>= 2).
        hidden: LSTM hidden size.
        layers: stacked LSTM layers.
        dropout: in [0, 1); between LSTM layers (locked over time, when ``layers > 1``) and before the classifier.
        input_norm: one of ``INPUT_NORMS``; see the module docstring.
    """

    # outside the LSTM only a batch norm and a linear layer: on 2 cores a step took 17 ms with the cores given
    # to the shards, 25 ms without
    cpu_work_in_shards = True

    def __init__(
        self,
        channels: int = 3,
        classes: int = 2,
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.3,
        input_norm: str = "batch",
    ) -> None:
        super().__init__()
        self.config = {
            "channels": _check_int("channels", channels),
            "classes": _check_int("classes", classes, minimum=2),
            "hidden": _check_int("hidden", hidden),
            "layers": _check_int("layers", layers),
            "dropout": _check_dropout(dropout),
            "input_norm": _check_choice("input_norm", input_norm, INPUT_NORMS),
        }
        self.channels, self.classes = channels, classes
        self.input_norm = InputNorm(channels, input_norm)
        self.lstm = StackedLSTM(channels, hidden, layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq_len, channels)`` -> logits ``(batch, classes)``."""
        _check_input(x, self.channels)
        x = self.input_norm(x)
        _, (h_n, _) = self.lstm(x)
        return self.classifier(self.dropout(h_n[-1]))


class LSTMAttentionModel(_ConfigMixin, nn.Module):
    """Stacked LSTM, multi-head self-attention over its outputs (residual + LayerNorm), pooling, MLP head.

    Architecture (B batch, T seq_len, C channels, H hidden, K classes)::

        x                              (B, T, C)
        InputNorm(input_norm)          (B, T, C)
        StackedLSTM(C -> H, layers)    (B, T, H)  every step's output, not only the last
        MultiheadAttention(H, heads)   (B, T, H)  each frequency step attends to all others
        LayerNorm(lstm + attention)    (B, T, H)  residual connection, then normalisation
        pool over T                    (B, H)     "attention": softmax(Linear(H -> 1)) weights;
                                                  "mean": plain average over steps
        Linear(H -> H), GELU, Dropout  (B, H)
        Linear(H -> K)                 (B, K)     logits

    The attention pooling weights of the last forward pass are kept in ``.last_pool_weights``
    ``(B, T)`` (which frequency bins the model looked at) when ``pooling="attention"``.

    Args:
        channels, classes, hidden, layers, dropout, input_norm: as for :class:`LSTMModel`.
        heads: attention heads; ``hidden`` must be divisible by ``heads``.
        pooling: ``"attention"`` (default) or ``"mean"``.
        attention_dropout: dropout on the attention weights ``(B, heads, T, T)``, in [0, 1). Default 0: with it,
            torch's fused attention kernel cannot run, and the weights are materialised and masked element by
            element. Measured on 2 cores, batch 64, bf16: a training step took 177 ms at 0.3 and 75 ms at 0, an
            epoch 8.3 s against 4.0 s, and the test accuracy after 8 epochs (2 seeds) was 0.857 against 0.870
            (``benchmarks/bench_train.py --attention-study``). ``dropout`` still acts between the LSTM layers and
            in the head. Checkpoints written before this argument existed applied ``dropout`` here too; ``load_model``
            and resuming rebuild them that way.
    """

    def __init__(
        self,
        channels: int = 3,
        classes: int = 2,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.3,
        input_norm: str = "batch",
        pooling: str = "attention",
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = _check_int("hidden", hidden)
        heads = _check_int("heads", heads)
        if hidden % heads:
            raise ValueError(
                f"hidden must be divisible by heads, got hidden={hidden}, heads={heads}; "
                f"choose e.g. heads in {[h for h in range(1, min(hidden, 8) + 1) if hidden % h == 0]}"
            )
        self.config = {
            "channels": _check_int("channels", channels),
            "classes": _check_int("classes", classes, minimum=2),
            "hidden": hidden,
            "layers": _check_int("layers", layers),
            "heads": heads,
            "dropout": _check_dropout(dropout),
            "input_norm": _check_choice("input_norm", input_norm, INPUT_NORMS),
            "pooling": _check_choice("pooling", pooling, POOLINGS),
            "attention_dropout": _check_dropout(attention_dropout, "attention_dropout"),
        }
        self.channels, self.classes, self.pooling = channels, classes, pooling
        self.input_norm = InputNorm(channels, input_norm)
        self.lstm = StackedLSTM(channels, hidden, layers, dropout)
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=attention_dropout, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.pool_score = nn.Linear(hidden, 1) if pooling == "attention" else None
        self.head = nn.Sequential(
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, classes)
        )
        self.last_pool_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq_len, channels)`` -> logits ``(batch, classes)``."""
        _check_input(x, self.channels)
        x = self.input_norm(x)
        h, _ = self.lstm(x)  # (B, T, H)
        a, _ = self.attention(h, h, h, need_weights=False)
        h = self.norm(h + a)
        if self.pool_score is not None:
            w = torch.softmax(self.pool_score(h).squeeze(-1), dim=1)  # (B, T)
            self.last_pool_weights = w.detach()
            pooled = torch.bmm(w.unsqueeze(1), h).squeeze(1)  # (B, H)
        else:
            pooled = h.mean(dim=1)
        return self.head(pooled)


# --------------------------------------------------------------------------- registry
MODELS: dict[str, type[nn.Module]] = {"lstm": LSTMModel, "lstm_attention": LSTMAttentionModel}


def build_model(name: str, *, seed: int | None = None, **kwargs: Any) -> nn.Module:
    """Build a registered model by name: ``build_model("lstm", hidden=32, classes=3)``.

    With ``seed`` the weights are initialised from ``torch.manual_seed(seed)`` inside
    ``torch.random.fork_rng``, so the same seed gives the same initial weights and the caller's
    global RNG state is left as it was.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    if seed is None:
        return MODELS[name](**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](**kwargs)


def model_summary(model: nn.Module, input_shape: tuple[int, ...] = (1, 257, 3), **kwargs: Any):
    """torchinfo summary of ``model`` for an input of ``input_shape`` ``(batch, seq_len, channels)``.

    Returns torchinfo's ``ModelStatistics``: ``print()`` it in a script, or leave it as the last
    expression of a notebook cell. Extra keyword arguments go to ``torchinfo.summary``. The model's
    train/eval mode and global RNG state are left as they were.
    """
    from torchinfo import summary

    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (batch, seq_len, channels), got {tuple(input_shape)}")
    param = next(model.parameters(), None)
    options = {
        "input_size": tuple(input_shape),
        "col_names": ("input_size", "output_size", "num_params"),
        "depth": 3,
        "verbose": 0,
        "device": param.device if param is not None else "cpu",
        "mode": "eval",
    }
    options.update(kwargs)
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]):
            return summary(model, **options)
    finally:
        model.train(was_training)
