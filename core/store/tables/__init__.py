"""SQLAlchemy tables, one module per area (never called models: models/ means ML)."""
