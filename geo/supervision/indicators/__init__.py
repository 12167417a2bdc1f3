"""One module per indicator, each defining INDICATOR (or a few, as INDICATORS) (geo.supervision.model.Indicator).
To add one: a module here and a test; the engine, the API and the cockpit find it."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from geo.supervision.model import Indicator


@cache
def all_indicators() -> dict[str, Indicator]:
    found: dict[str, Indicator] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for indicator in (getattr(module, "INDICATOR", None), *getattr(module, "INDICATORS", ())):
            if isinstance(indicator, Indicator):
                if indicator.key in found:
                    raise ValueError(f"two indicators named {indicator.key}")
                found[indicator.key] = indicator
    return dict(sorted(found.items(), key=lambda kv: kv[1].order))
