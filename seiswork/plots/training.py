"""Plots of training and evaluation: learning curves, confusion matrix, ROC curve, runs compared."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from seiswork.data.events import to_numpy
from seiswork.plots.style import legend_outside, new_axes, new_grid, palette


_NOT_METRICS = {"epoch", "lr", "learning_rate", "time", "seconds", "elapsed", "duration", "best", "is_best"}


def learning_curves(history: pd.DataFrame | Mapping, axes: Any = None, title: str = "Learning curves") -> Figure:
    """Loss (left) and metrics (right) per epoch for training and validation.

    ``history``: DataFrame (or dict of lists) with one row per epoch, columns such as ``train_loss``,
    ``val_loss``, ``train_accuracy``, ``val_macro_f1``; an ``epoch`` column, when present, is the x axis.
    Columns containing ``loss`` go to the left panel, other numeric train_/val_ columns to the right one.
    The epoch ``fit`` keeps (best ``val_macro_f1``, else lowest ``val_loss``) is marked. ``axes``: optional pair
    of axes. Legends sit right of their panels. An ensemble's history (a ``member`` column,
    :func:`seiswork.training.fit_members`) draws every member's curves in the same colours, each member's kept
    epoch marked.
    """
    h = pd.DataFrame(history)
    if h.empty:
        raise ValueError("history is empty: train for at least one epoch first")
    groups = [g for _, g in h.groupby("member", sort=True)] if "member" in h.columns else [h]
    numeric = [col for col in h.columns if pd.api.types.is_numeric_dtype(h[col]) and col not in _NOT_METRICS
               and col != "member"]
    loss_cols = [col for col in numeric if "loss" in col]
    metric_cols = [col for col in numeric if "loss" not in col and (col.startswith(("train", "val")))]
    if not loss_cols:
        raise ValueError(f"history has no loss column (columns: {list(h.columns)}); expected e.g. train_loss, val_loss")
    fig, axs = new_grid(axes, 1, 2, (13.0, 3.8))
    ax_l, ax_m = axs[0]
    styles = {"train": "-", "val": "--"}
    colors = palette()
    bases = sorted({col.split("_", 1)[1] if "_" in col else col for col in metric_cols})
    alpha = 1.0 if len(groups) == 1 else 0.6
    for m, g in enumerate(groups):
        epochs = g["epoch"].to_numpy() if "epoch" in g.columns else np.arange(1, len(g) + 1)
        first = m == 0  # one legend entry per curve, not per member
        for i, col in enumerate(loss_cols):
            ax_l.plot(epochs, g[col], styles.get(col.split("_")[0], "-"), marker="o", ms=3, alpha=alpha,
                      label=col if first else None, color=colors[i % len(colors)])
        # mark the epoch fit() keeps: best validation macro F1 (the first of ties), else lowest validation loss
        for col, pick in (("val_macro_f1", np.nanargmax), ("val_loss", np.nanargmin)):
            if col in g.columns and g[col].notna().any():
                best = int(pick(g[col].to_numpy(dtype=float)))
                for ax in (ax_l, ax_m):
                    ax.axvline(epochs[best], color="0.5", ls=":", lw=1)
                if first:
                    kept = f"epoch {epochs[best]}" if len(groups) == 1 else f"one line per member of {len(groups)}"
                    ax_l.plot([], [], color="0.5", ls=":", label=f"best {col} ({kept})")
                break
        # one colour per metric name, line style per part
        for col in metric_cols:
            base = col.split("_", 1)[1] if "_" in col else col
            ax_m.plot(epochs, g[col], styles.get(col.split("_")[0], "-"), marker="o", ms=3, alpha=alpha,
                      label=col if first else None,
                      color=colors[(len(loss_cols) + bases.index(base)) % len(colors)])
    ax_l.set_title("Loss")
    ax_l.set_xlabel("Epoch")
    ax_l.set_ylabel("Loss (cross-entropy)")
    legend_outside(ax_l, fontsize="small")
    for ax in (ax_l, ax_m):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_m.set_title("Metrics")
    ax_m.set_xlabel("Epoch")
    ax_m.set_ylabel("Score (0–1)")
    if metric_cols:
        legend_outside(ax_m, fontsize="small")
    else:
        ax_m.text(0.5, 0.5, "no metric columns in history", ha="center", va="center", transform=ax_m.transAxes)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(
    cm: Any,
    classes: Sequence,
    normalize: bool = True,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
    cmap: str = "Blues",
    model: str | None = None,
) -> Figure:
    """Heatmap of a confusion matrix (rows: true class, columns: predicted class).

    Each cell is annotated ``count\\n(row %)``; the colour shows row fractions (recall per class) with
    ``normalize=True``, raw counts otherwise. ``model``: a name for the title (e.g. ``"lstm"``).
    """
    m = np.asarray(to_numpy(cm))
    classes = [str(c) for c in classes]
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be a square (k, k) matrix, got shape {m.shape}")
    if m.shape[0] != len(classes):
        raise ValueError(f"cm is {m.shape[0]}x{m.shape[0]} but {len(classes)} class names were given: {classes}")
    if np.any(m < 0):
        raise ValueError("cm holds negative counts")
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros(m.shape, dtype=float), where=rows > 0)
    shown = frac if normalize else m
    k = len(classes)
    fig, ax = new_axes(ax, (2.2 + 1.1 * k, 1.8 + 1.0 * k))
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(1, m.max()))
    ax.grid(False)
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("Fraction of true class" if normalize else "Events (count)")
    hi = (1 if normalize else max(1, m.max())) * 0.6
    for i in range(k):
        for j in range(k):
            count = int(m[i, j]) if float(m[i, j]).is_integer() else m[i, j]
            ax.text(j, i, f"{count}\n({100 * frac[i, j]:.1f}%)", ha="center", va="center", fontsize="small",
                    color="white" if shown[i, j] > hi else "black")
    ax.set_xticks(range(k), classes, rotation=30 if max(map(len, classes)) > 8 else 0, ha="right" if max(map(len, classes)) > 8 else "center")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(f"{title}{f' — {model}' if model else ''} (n={int(m.sum())})")
    return fig


def roc_curve(
    labels: Any,
    scores: Any,
    pos_label: Any = None,
    ax: Axes | None = None,
    classes: Sequence | None = None,
    title: str = "ROC curve",
    model: str | None = None,
) -> Figure:
    """ROC curve for two classes (sklearn), AUC in the legend.

    ``labels``: true labels (ints or names). ``scores``: score of the positive class per event (n,), or
    (n, 2) probabilities/logits (column 1 is used), or a mapping ``{run name: scores}`` to overlay runs.
    ``pos_label``: the positive class (default: the second of ``classes``/the sorted labels). With integer
    labels, ``classes`` names them in the legend. ``model``: a name for the title (e.g. ``"lstm"``). The
    legend sits right of the panel.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as _roc

    y = to_numpy(labels).ravel()
    uniq = sorted(pd.unique(y).tolist(), key=str)
    if len(uniq) != 2:
        raise ValueError(f"roc_curve needs exactly two classes in labels, got {len(uniq)}: {uniq}")
    if pos_label is None:
        if classes is not None and not np.issubdtype(y.dtype, np.integer):
            pos_label = list(classes)[1]
        else:
            pos_label = uniq[1]
    if pos_label not in uniq:
        raise ValueError(f"pos_label {pos_label!r} is not one of the labels {uniq}")
    pos_name = pos_label
    if classes is not None and np.issubdtype(y.dtype, np.integer) and isinstance(pos_label, (int, np.integer)):
        pos_name = list(classes)[int(pos_label)]
    runs = dict(scores) if isinstance(scores, Mapping) else {None: scores}
    fig, ax = new_axes(ax, (7.4, 4.4))
    for i, (name, s) in enumerate(runs.items()):
        s = np.asarray(to_numpy(s), dtype=float)
        if s.ndim == 2:
            if s.shape[1] != 2:
                raise ValueError(f"scores for {name or 'the run'} have shape {s.shape}; pass (n,) or (n, 2)")
            s = s[:, 1]
        if s.shape[0] != y.shape[0]:
            raise ValueError(f"scores for {name or 'the run'} have {s.shape[0]} entries but labels have {y.shape[0]}")
        fpr, tpr, _ = _roc(y, s, pos_label=pos_label)
        auc = roc_auc_score(y == pos_label, s)
        label = f"{name + ': ' if name else ''}AUC = {auc:.3f}"
        ax.plot(fpr, tpr, lw=1.5, label=label, color=palette()[i % len(palette())])
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title(f"{title}{f' — {model}' if model else ''} (positive class: {pos_name})")
    legend_outside(ax, fontsize="small")
    return fig


def compare_runs(
    metrics: Mapping[str, Any],
    keys: Sequence[str] = ("accuracy", "balanced_accuracy", "macro_f1"),
    ax: Axes | None = None,
    title: str = "Test metrics per model",
) -> Figure:
    """Grouped bars: one group per metric, one bar per run (e.g. ``{"lstm": report, "lstm_attention": report}``).

    Each value is a dict/Series of metrics (``evaluate``'s report, or the ``metrics.json`` summary);
    the value is written on each bar; the legend sits right of the panel.
    """
    if not metrics:
        raise ValueError("compare_runs needs at least one run: metrics is empty")
    table = {}
    for name, report in metrics.items():
        report = dict(report)
        for nested in ("test", "metrics"):  # a metrics.json may nest the test metrics one level down
            if not all(k in report for k in keys) and isinstance(report.get(nested), Mapping):
                report = {**dict(report[nested]), **report}
        missing = [k for k in keys if k not in report]
        if missing:
            raise ValueError(f"run {name!r} has no metric(s) {missing}; it has {sorted(map(str, report))}. "
                             f"Pass keys= that every run has")
        table[name] = [float(report[k]) if report[k] is not None else np.nan for k in keys]
    fig, ax = new_axes(ax, (3.2 + 1.6 * len(keys), 3.8))
    n = len(table)
    width = 0.8 / n
    xs = np.arange(len(keys))
    for i, (name, vals) in enumerate(table.items()):
        bars = ax.bar(xs + (i - (n - 1) / 2) * width, vals, width, label=str(name), color=palette()[i % len(palette())])
        ax.bar_label(bars, fmt="%.3f", fontsize="x-small")
    ax.set_xticks(xs, [k.replace("_", " ") for k in keys])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("Score (0–1)")
    ax.set_xlabel("Metric")
    ax.set_title(title)
    legend_outside(ax, title="run", fontsize="small")
    return fig

