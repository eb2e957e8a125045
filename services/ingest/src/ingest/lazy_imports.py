"""Keep Powertools' event handler package from importing every resolver it ships.

``aws_lambda_powertools/event_handler/__init__.py`` imports all resolvers (AppSync pulls in
asyncio, plus Bedrock, VPC Lattice, ...): ~40 ms of cold start for code this service never runs.
:func:`defer_package_init` registers the package without running its ``__init__``: submodules
import as usual, and the first access to anything else runs the real ``__init__`` then, so every
``from aws_lambda_powertools.event_handler import X`` keeps working. See
docs/decisions/0011-cold-start-budget.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


def defer_package_init(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    loader = spec.loader

    class DeferredPackage(types.ModuleType):
        def __getattr__(self, attr: str) -> Any:
            if attr.startswith("__"):
                raise AttributeError(attr)
            if importlib.util.find_spec(f"{name}.{attr}") is not None:
                return importlib.import_module(f"{name}.{attr}")
            self.__class__ = types.ModuleType  # type: ignore[assignment]  # a plain package from now on
            loader.exec_module(self)
            return getattr(self, attr)

    package = DeferredPackage(name)
    package.__spec__ = spec
    package.__loader__ = loader
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = name
    sys.modules[name] = package
