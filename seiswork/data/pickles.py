"""Pickled DataFrames, the seed's format: a pickled ``(list[DataFrame], labels)``, read safely.

Pickles are read with a restricted unpickler that only builds numpy/pandas data; ``trusted=True``
uses plain :func:`pickle.load` (which can run arbitrary code: only for files you trust).  A sidecar
``<stem>.meta.csv`` (one row per event, same order, e.g. ``event_id``, ``station``) is picked up.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seiswork.data.events import as_labels, check_has_data, event_values
from seiswork.data.eventset import CONVERT_HINT, Part, rename_clashes

__all__ = ["UnsafePickleError", "SAFE_PICKLE_GLOBALS", "load_pickle", "read_pickled_frames"]

SUFFIXES = (".pkl", ".pickle")


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle refers to something outside the numpy/pandas data types that pickled DataFrames need."""


# (module, name) pairs that pickled DataFrames need, found by pickling DataFrames (float64/float32/int columns,
# RangeIndex/Index/DatetimeIndex, str column names), label arrays (str, object, int, numpy scalars,
# Series, Categorical) with protocols 0-5 under pandas 2/3 and numpy 1/2, and reading them with a
# recording Unpickler. Every entry is a data constructor: none runs code, imports modules or touches files.
SAFE_PICKLE_GLOBALS = frozenset(
    {
        # builtins (protocols 0-2 spell them __builtin__ / copy_reg / _codecs)
        ("builtins", "slice"), ("__builtin__", "slice"),
        ("builtins", "object"), ("__builtin__", "object"),
        ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"),
        ("_codecs", "encode"),  # bytes under protocol < 3
        # numpy (numpy 1.x pickles say numpy.core, mapped to numpy._core below)
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        # pandas containers (pandas 3 names them pandas.X, pandas 2 by their defining module)
        ("pandas", "DataFrame"), ("pandas.core.frame", "DataFrame"),
        ("pandas", "Series"), ("pandas.core.series", "Series"),
        ("pandas", "Index"), ("pandas.core.indexes.base", "Index"), ("pandas.core.indexes.base", "_new_Index"),
        ("pandas", "RangeIndex"), ("pandas.core.indexes.range", "RangeIndex"),
        ("pandas", "DatetimeIndex"), ("pandas.core.indexes.datetimes", "DatetimeIndex"),
        ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
        ("pandas.arrays", "DatetimeArray"), ("pandas.core.arrays.datetimes", "DatetimeArray"),
        ("pandas.arrays", "StringArray"), ("pandas.core.arrays.string_", "StringArray"),
        ("pandas", "StringDtype"), ("pandas.core.arrays.string_", "StringDtype"),
        ("pandas", "Categorical"), ("pandas.core.arrays.categorical", "Categorical"),
        ("pandas", "CategoricalDtype"), ("pandas.core.dtypes.dtypes", "CategoricalDtype"),
        ("pandas", "NA"), ("pandas._libs.missing", "NA"),
        ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
        # pandas internals that rebuild the containers' blocks
        ("pandas.core.internals.managers", "BlockManager"),
        ("pandas.core.internals.managers", "SingleBlockManager"),
        ("pandas._libs.internals", "_unpickle_block"),
        ("pandas.core.internals.blocks", "new_block"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    }
)
# names that moved: old pickles still load (pandas 1.x numeric indexes became plain Index in pandas 2)
_PICKLE_RENAMES = {
    ("pandas.core.indexes.numeric", "Int64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "UInt64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "Float64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "NumericIndex"): ("pandas.core.indexes.base", "Index"),
}
# DatetimeIndex frequencies (Milli, Second, ...) are offset classes of this module; checked by type
_OFFSETS_MODULE = "pandas._libs.tslibs.offsets"


class _SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` resolves only :data:`SAFE_PICKLE_GLOBALS`."""

    def find_class(self, module: str, name: str):
        key = (module, name)
        if module == "numpy.core" or module.startswith("numpy.core."):
            key = ("numpy._core" + module[len("numpy.core"):], name)  # numpy 1.x spelling
        key = _PICKLE_RENAMES.get(key, key)
        if key in SAFE_PICKLE_GLOBALS:
            return super().find_class(*key)
        if module == _OFFSETS_MODULE:
            from pandas._libs.tslibs.offsets import BaseOffset

            obj = super().find_class(module, name)  # importing pandas' own module runs nothing new
            if isinstance(obj, type) and issubclass(obj, BaseOffset):
                return obj
        raise UnsafePickleError(f"{module}.{name}")


def load_pickle(path: Path, trusted: bool) -> Any:
    """Unpickle ``path``; the safe way unless ``trusted``. Errors name the file and what to do."""
    try:
        with open(path, "rb") as f:
            if trusted:
                return pickle.load(f)
            return _SafeUnpickler(f).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(
            f"{path}: refused to load this pickle: it refers to {err.args[0]}, which is not one of the "
            f"numpy/pandas data types that pickled DataFrames need, and unpickling it could run code. "
            f"{CONVERT_HINT}."
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as err:
        raise ValueError(
            f"{path}: could not be read as a pickle ({type(err).__name__}: {err}); the file may be truncated or "
            f"not a pickle. Expected pickled DataFrames, a tuple (events, labels)."
        ) from err
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"{path}: the pickle refers to a module or class this environment does not have ({err}); "
            f"it was probably written by another pandas/numpy version. Load it where it was written and save "
            f"it with seiswork.save_npz, or convert it with `python -m seiswork convert IN OUT.npz`."
        ) from err


def _select_channels(source: str, events: list, channels: tuple[str, ...]) -> list:
    """Each event as a DataFrame with only ``channels``; errors name the event and its columns."""
    columns = pd.Index(list(channels))
    out, lengths, has_data = [], [], []
    for i, df in enumerate(events):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(
                f"{source}: event {i} is a {type(df).__name__}, not a pandas DataFrame; pickled DataFrames are a tuple "
                f"(events, labels) with events a list of DataFrames with columns {list(channels)}"
            )
        values = df.to_numpy() if df.columns.equals(columns) else None
        if values is not None and values.dtype.kind in "fiu":
            sel = df  # the common case: a frame of exactly the channels is kept as it is, no copy
        else:
            values = event_values(df, channels, f"{source}: event {i}")
            sel = pd.DataFrame(values, columns=columns, index=df.index, copy=False)
        lengths.append(len(values))
        has_data.append(values.dtype.kind != "f" or not np.isnan(values).all())
        out.append(sel)
    check_has_data(source, lengths, has_data, f"remove them or pick channels other than {list(channels)}")
    return out


def read_pickled_frames(path: Path, channels: tuple[str, ...], trusted: bool) -> Part:
    """Read one file of pickled DataFrames (+ its sidecar) as a :class:`Part`."""
    obj = load_pickle(path, trusted)
    if not (isinstance(obj, (tuple, list)) and len(obj) == 2):
        what = f"a {type(obj).__name__}" + (f" of length {len(obj)}" if isinstance(obj, (tuple, list)) else "")
        if isinstance(obj, dict):
            what += f" with keys {list(obj)[:10]}"
        raise ValueError(
            f"{path}: not pickled DataFrames: expected a tuple (events, labels) with events a list of pandas "
            f"DataFrames (columns {list(channels)}) and labels an array, got {what}"
        )
    raw_events, raw_labels = obj
    if isinstance(raw_events, pd.DataFrame) or not isinstance(raw_events, (list, tuple)):
        raise ValueError(
            f"{path}: not pickled DataFrames: the first item must be a list of pandas DataFrames, "
            f"got a {type(raw_events).__name__}"
        )
    if len(raw_events) == 0:
        raise ValueError(f"{path}: holds 0 events; nothing to load")
    labels = as_labels(raw_labels, len(raw_events), str(path))
    events = _select_channels(str(path), raw_events, channels)
    meta = pd.DataFrame({"label": labels})
    sidecar = path.with_name(path.name[: -len(path.suffix)] + ".meta.csv")
    if sidecar.exists():
        extra = pd.read_csv(sidecar, dtype={"event_id": str, "station": str})
        if len(extra) != len(events):
            raise ValueError(
                f"{sidecar} has {len(extra)} rows but {path} holds {len(events)} events; the sidecar needs one row "
                f"per event, in the same order (fix or remove {sidecar.name})"
            )
        extra = rename_clashes(extra, "sidecar_")
        meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return Part(events, labels, meta, "pickled DataFrames" + (" + sidecar" if sidecar.exists() else ""))
