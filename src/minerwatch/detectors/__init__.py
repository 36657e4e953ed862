"""Detectors: each turns protocol messages or flow facts into observations and events, one concern each."""
