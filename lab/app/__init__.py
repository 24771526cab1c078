"""Use cases of the lab, shared by the `lab` command, the TUI's live source and (later) the drills: what a
learner or an instructor does, written once over the layers below.

- `lab.app.checking`: the inventory parts a lab's checks need; check labs (collect, grade, record progress).
"""
