"""The YAML-driven dialogue engine: flows, trackers, rendering and the conversation service.

Modules: ``schema`` (file format), ``loader`` (validation + hot reload), ``tracker`` (state),
``understanding`` (NLU seam), ``render`` (per-channel text), ``engine`` (policies),
``service`` (one message in, replies out, events published), ``assembly`` (wiring).
"""
