"""How ``fit`` shows its progress: tqdm bars, one plain line per epoch, a callback, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["Progress", "in_kernel", "interactive", "epoch_line"]


def in_kernel() -> bool:
    """True inside a Jupyter kernel (tqdm.auto then draws widget bars)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def interactive() -> bool:
    """True in a Jupyter kernel or when stderr is a terminal (then tqdm bars; else one line per epoch)."""
    return in_kernel() or sys.stderr.isatty()


def epoch_line(record: dict[str, Any], epochs: int, best: bool) -> str:
    """One epoch's history record as a line of text (``*best`` when it improved)."""
    r = record
    return (
        f"epoch {r['epoch']:>3}/{epochs}  "
        f"train loss {r['train_loss']:.4f} acc {r['train_accuracy']:.3f} f1 {r['train_macro_f1']:.3f} | "
        f"val loss {r['val_loss']:.4f} acc {r['val_accuracy']:.3f} bal {r['val_balanced_accuracy']:.3f} "
        f"f1 {r['val_macro_f1']:.3f} | lr {r['lr']:.2e} | {r['seconds']:.1f} s{'  *best' if best else ''}")


class Progress:
    """``fit``'s ``progress`` argument as one object; a context manager that closes its bar on exit.

    ``progress``: None = auto (tqdm bars in a notebook or terminal, one plain line per epoch otherwise);
    True (bars) / False (nothing); or a callable receiving each epoch's history record (dict).
    """

    def __init__(self, progress: bool | Callable[[dict[str, Any]], None] | None, epochs: int, start_epoch: int
                 ) -> None:
        self.epochs = epochs
        self.quiet = progress is False
        self.callback = progress if callable(progress) else None
        self.bar = None
        if (interactive() if progress is None else progress is True) and self.callback is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs, initial=start_epoch, desc="epochs", unit="epoch")
        # Per-batch bars only in a terminal: in a notebook each one is a new widget, and the messages of a
        # long fit overflow clients that read them after the cell (nbval drops past 1000, then times out).
        self.batch_bars = self.bar is not None and not in_kernel()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def batches(self, batches: Iterable, total: int, epoch: int) -> Iterator:
        """``batches`` of epoch ``epoch`` (1-based), behind a per-batch bar in a terminal."""
        if self.batch_bars:
            from tqdm.auto import tqdm

            return tqdm(batches, total=total, desc=f"epoch {epoch}", leave=False)
        return iter(batches)

    def epoch_done(self, record: dict[str, Any], improved: bool, best_epoch: int) -> None:
        """Show one finished epoch (after its checkpoint is written)."""
        if self.callback is not None:
            self.callback(dict(record))
        elif self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{record['train_loss']:.3f}", val_f1=f"{record['val_macro_f1']:.3f}",
                                 best=best_epoch)
        elif not self.quiet:
            print(epoch_line(record, self.epochs, improved), flush=True)

    def stopped_early(self, patience: int | None, best_epoch: int, best_score: float) -> None:
        """Say why the run ended before ``epochs`` (not to a callback, not when quiet)."""
        if self.callback is None and not self.quiet:
            print(f"early stop: no val macro F1 gain for {patience} epochs; best epoch {best_epoch} "
                  f"(val macro F1 {best_score:.4f})", flush=True)
