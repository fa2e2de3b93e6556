"""Importing aiogram without building every Telegram type up front.

aiogram's types are pydantic models declared `defer_build`, but `aiogram.types` then rebuilds all
of them (some 300) at import, to resolve the names their annotations import only for type
checkers: about 2.5 s of CPU on a small server, most of a restart's time to its first answer.
Imported through here, that rebuild is skipped and the same names are put in each type's and
method's module instead, where pydantic looks for them when it builds a model on first use (the
few the bot handles: an update, a message, the methods it calls). Same annotations, same names:
the models validate as before. Should a later aiogram or pydantic change what this relies on,
aiogram is imported the ordinary way.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def import_aiogram() -> None:
    """Import aiogram (once per process) with its models built on first use."""
    if "aiogram" in sys.modules:
        return
    eager = BaseModel.__dict__["model_rebuild"]
    names: dict[str, Any] = {}

    def deferred(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool | None:
        # Only aiogram.types' own loop passes a namespace for its types; anything else as asked.
        given = kwargs.get("_types_namespace")
        if given is None or args or kwargs.get("force") or not cls.__module__.startswith("aiogram.types."):
            return eager.__func__(cls, *args, **kwargs)  # type: ignore[no-any-return]
        if not names:  # the same namespace for every type
            names.update(given)
        return None

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign, assignment]
    try:
        import aiogram.methods
        import aiogram.types
    finally:
        BaseModel.model_rebuild = eager  # type: ignore[method-assign]
    if not names:
        return  # aiogram built its types itself: nothing left to supply
    models = [getattr(package, name) for package in (aiogram.types, aiogram.methods)
              for name in package.__all__]
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            namespace = vars(sys.modules[model.__module__])
            for name, value in names.items():
                namespace.setdefault(name, value)
    # Every update, and every reply's result, holds a message: built first, its schema is then
    # reused by each model that holds one, where otherwise each would build it again (0.2 s).
    aiogram.types.Message.model_rebuild()
