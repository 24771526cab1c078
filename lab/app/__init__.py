"""The application layer: the use cases the `lab` CLI, the TUI's live source and the sandbox's drills share
(check a lab, the inventory parts a lab needs, start and judge a drill, export, grade)."""
