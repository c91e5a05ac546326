"""Outbound campaigns: lists, DNC, calling windows, pacing, AMD and the scheduler (issue 10)."""
