"""Automatic QA: score every contact against editable scorecards, with evidence (issue 9).

- ``qa.scorecard``  YAML scorecards, validated on load (``load_scorecard``, ``load_default``)
- ``qa.transcript`` the call/transcript shape and its validation (``parse_call``)
- ``qa.checks``     check types → verdicts with evidence (phrases, semantic, order, window, …)
- ``qa.score``      ``score_contact(call, scorecard, *, embedder=None) -> ContactScore``
- ``qa.calibration`` Cohen's kappa and agreement between analysts and with the auto scores
- ``qa.subscriber`` ``QaSubscriber`` on ``contact.ended`` and the ``backfill`` batch job
- ``qa.repo``       store queries (scores, overrides, disputes, calibration, scorecards)
- ``qa.commands``   ``hotline qa score|validate``
"""
