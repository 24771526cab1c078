"""The application layer: the use cases the `lab` CLI, the TUI's live source and the sandbox's drills share,
written once over the layers below.

- `lab.app.checking`: the inventory parts a lab's checks need; check labs (collect, grade, record progress).
- `lab.app.drills`: a lab's drill plan, and a drill's recovery judged by the lab's recovery checks.
"""
