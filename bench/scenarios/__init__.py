"""Load scenarios, one module each; the contract is in bench/README.md."""

from __future__ import annotations

import pkgutil


def names() -> list[str]:
    """Every scenario module (``_``-prefixed modules are helpers), found without importing any."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
