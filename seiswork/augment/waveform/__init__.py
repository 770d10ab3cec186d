"""The augmentations, one module each. Every module in this folder is imported here, so a class it
``@register``s is known to the pipeline JSON, the tuner and the default pipeline without edits elsewhere."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
