"""The sandbox process: gateway + backend + the lab's own state, with crash-safe persistence."""
