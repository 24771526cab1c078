"""Simulated time and what happens in it: the clock, the event log."""
