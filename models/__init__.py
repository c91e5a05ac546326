"""The model registry: every ML model Hotline ships or trains, pinned and sha256-checked."""

from models.catalog import CATALOG
from models.registry import ModelEntry, ModelFile, Registry

__all__ = ["CATALOG", "ModelEntry", "ModelFile", "Registry"]
