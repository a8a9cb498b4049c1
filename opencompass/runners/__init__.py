"""Runners execute the tasks of a run (local: in-process or worker processes)."""
