"""Analyses over a built model or a posture: the time-risk Pareto front, near-optimal alternatives and the
host-loss stress test."""
