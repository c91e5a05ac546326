"""Leaf package: settings, events, bus, store, auth, masking, audit.

Imports nothing else of ours (import-linter checks it).
"""
