"""Dialers: one Protocol; adapters for Asterisk ARI, Twilio-style REST and the test phone."""
