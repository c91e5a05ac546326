"""Imports every table module so one metadata holds the whole schema (for Alembic)."""

import importlib
import pkgutil

import core.store.tables as _tables
from core.store.tables.base import Base

for _mod in pkgutil.iter_modules(_tables.__path__):
    importlib.import_module(f"core.store.tables.{_mod.name}")

metadata = Base.metadata
