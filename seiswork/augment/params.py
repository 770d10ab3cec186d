"""How an augmentation declares its settings: one :class:`Param` per constructor argument.

The declaration is the only place a setting's name, default, valid range, unit and meaning are written down;
the constructor validates through it, ``get_config`` and the pipeline JSON read it, and the tuner derives its
sliders from it (:mod:`seiswork.widgets`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

__all__ = ["Param", "check_params", "real_number", "check_seed"]


def real_number(value: Any, name: str, owner: str) -> float:
    """A finite real number, or a clear error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return value


def check_seed(seed: Any, owner: str) -> Optional[int]:
    """``None`` or an integer in ``[0, 2**64)``."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"{owner}: seed must be None or an integer in [0, 2**64), got {seed!r}")
    return int(seed)


@dataclass(frozen=True)
class Param:
    """One constructor setting of an augmentation.

    ``name``/``default``: the constructor argument. A real number (the default) lies in the interval from
    ``low`` to ``high`` (``None``: unbounded), each end closed unless ``low_open``/``high_open``; a setting
    with ``choices`` is one of them instead. ``range_with``: the name of the setting this one is the lower end
    of (``snr_min`` with ``snr_max``): ``low <= high`` is required and the tuner shows the pair as one range
    slider. ``unit`` and ``doc`` (one line) describe it; ``label``, ``typical`` (the span a slider shows at
    first) and ``step`` are for the tuner. ``keyword_only``: passed by name only (after ``seed``).
    """

    name: str
    default: Any
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    doc: str = ""
    choices: Optional[tuple] = None
    range_with: Optional[str] = None
    label: str = ""
    typical: Optional[tuple[float, float]] = None
    step: float = 0.01
    keyword_only: bool = False

    @classmethod
    def pair(
        cls, name: str, default: tuple[float, float], doc: tuple[str, str], **kwargs: Any
    ) -> tuple["Param", "Param"]:
        """``name_min`` and ``name_max``: the two ends of a range drawn from (``range_with`` set), sharing
        every other field (``label`` defaults to ``name``)."""
        kwargs.setdefault("label", name)
        low = cls(f"{name}_min", default[0], doc=doc[0], range_with=f"{name}_max", **kwargs)
        return low, cls(f"{name}_max", default[1], doc=doc[1], **kwargs)

    @property
    def numeric(self) -> bool:
        return self.choices is None

    def interval(self) -> str:
        """The valid values in words: ``in [0, 1)``, ``> 0``, ``one of (...)`` or ``any finite number``."""
        if self.choices is not None:
            return f"one of {self.choices}"
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f"in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"
        if lo is not None:
            return f"{'>' if self.low_open else '>='} {lo:g}"
        if hi is not None:
            return f"{'<' if self.high_open else '<='} {hi:g}"
        return "any finite number"

    def contains(self, value: float) -> bool:
        lo, hi = self.low, self.high
        above = lo is None or (value > lo if self.low_open else value >= lo)
        below = hi is None or (value < hi if self.high_open else value <= hi)
        return above and below

    def convert(self, value: Any, owner: str) -> Any:
        """The value's type checked (a finite real number becomes a float); the range is :meth:`check`'s."""
        return real_number(value, self.name, owner) if self.numeric else value

    def check(self, value: Any, owner: str) -> None:
        """Raise ValueError naming ``owner``, the setting, the valid values and ``value`` when it is invalid."""
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"{owner}: {self.name} must be {self.interval()}, got {value!r}")
        elif not self.contains(value):
            unit = f" ({self.unit})" if self.unit else ""
            raise ValueError(f"{owner}: {self.name} must be {self.interval()}{unit}, got {value} (out of range)")


def check_params(params: Sequence[Param], values: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """``values`` validated against the declarations ``params``: types first, then ``low <= high`` of each
    range pair, then each setting's valid values, in declaration order. Returns the converted values."""
    out = {p.name: p.convert(values[p.name], owner) for p in params}
    for p in params:
        if p.range_with is not None and out[p.name] > out[p.range_with]:
            raise ValueError(
                f"{owner}: {p.name}={out[p.name]} must be <= {p.range_with}={out[p.range_with]}; swap them "
                "(the range must have min <= max)"
            )
    for p in params:
        p.check(out[p.name], owner)
    return out
