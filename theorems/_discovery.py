"""Import every topic module, so that its ``@claim`` decorators register the claims.

Topic modules are the public (not underscore-prefixed) modules of the ``theorems`` package.
Modules that register no claim (the evidence machinery) are imported too, which is harmless.
Extra modules, for claims kept outside this package, come from ``THEOREMS_MODULES`` (a
comma-separated list of importable module names) or ``python -m theorems --import MODULE``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

_ENGINE_MODULES = frozenset({"__main__"})
_imported = False


def import_topics(extra: tuple[str, ...] = ()) -> None:
    """Import the topic modules of ``theorems`` once, then each module named in ``extra``.

    Raises:
        ImportError: a module named in ``THEOREMS_MODULES`` or ``extra`` raised while importing
            (a missing module, a syntax error, a duplicate claim id); the message names it.
    """
    global _imported
    if not _imported:
        import theorems

        for info in pkgutil.iter_modules(theorems.__path__):
            if not info.name.startswith("_") and info.name not in _ENGINE_MODULES:
                importlib.import_module(f"theorems.{info.name}")
        _imported = True

    from_env = tuple(m.strip() for m in os.environ.get("THEOREMS_MODULES", "").split(",") if m.strip())
    for name in from_env + extra:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - any failure at import is reported the same way
            raise ImportError(
                f"claim module {name!r} (from THEOREMS_MODULES or --import) cannot be imported: "
                f"{type(error).__name__}: {error}"
            ) from error
