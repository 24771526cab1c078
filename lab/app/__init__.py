"""The application layer: the use cases the `lab` CLI, the TUI's live source and the sandbox's drills share,
written once over the layers below.

- `lab.app.checking`: the inventory parts a lab's checks need; check labs (collect, grade, record progress).
- `lab.app.drills`: a lab's drill plan, and a drill's recovery judged by the lab's recovery checks.
- `lab.app.scoring`: a lab's score and pass, defined once (every command, the TUI, class grading).
- `lab.app.reports`: grade labs, export a learner's work, grade a class of exports.
"""
