"""The SecureCart DR Lab terminal UI.

`run_app()` is what `lab` (no arguments) and `lab tui` call: it opens the app at once and starts the
sandbox in the background if it is not running. The app owns one `DataSource`; every call to it runs in a
thread worker (`call_source`), and what comes back is pushed into reactive attributes (`sandbox`,
`labs`) that the screens watch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.message_pump import MessagePump
from textual.reactive import reactive

from tui.data import DataSource, LabSummary, SandboxView
from tui.messages import ClockAction, CopyText, InjectScenario, OpenLab
from tui.screens.home import HomeScreen

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.screen import Screen

Result = TypeVar("Result")
THEMES = {"dark": "textual-dark", "light": "textual-light"}
SANDBOX_POLL_SECONDS = 1.0
BUSY_AFTER_SECONDS = 2.0  # an unanswered poll older than this shows the sandbox as busy
LIVE_CHECK_SECONDS = 10.0


def _lab_commands() -> type[Provider]:
    # the command palette's provider, imported when the palette first opens
    from tui.palette import LabCommands

    return LabCommands


class LabApp(App[None]):
    TITLE = "SecureCart DR Lab"
    CSS_PATH = "app.tcss"
    # Screens other than Home are imported when first shown: the first frame waits for nothing else.
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "home": HomeScreen,
        "map": lambda: _screen("region_map", "RegionMapScreen"),
        "resources": lambda: _screen("resources", "ResourceExplorerScreen"),
        "events": lambda: _screen("events", "EventLogScreen"),
        "clock": lambda: _screen("clock", "ClockScreen"),
    }
    DEFAULT_MODE = "home"
    COMMANDS = App.COMMANDS | {_lab_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('home')", "Home", show=False),
        Binding("2", "switch_mode('map')", "Map", show=False),
        Binding("3", "switch_mode('resources')", "Resources", show=False),
        Binding("4", "switch_mode('events')", "Events", show=False),
        Binding("5", "switch_mode('clock')", "Clock", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("ctrl+r", "restart_sandbox", "Restart sandbox", show=False),
        Binding("q", "quit", "Quit"),
    ]

    sandbox: reactive[SandboxView | None] = reactive(None, always_update=False)
    labs: reactive[tuple[LabSummary, ...]] = reactive((), always_update=False)

    def __init__(self, source: DataSource, *, poll_seconds: float = SANDBOX_POLL_SECONDS,
                 live_check_seconds: float = LIVE_CHECK_SECONDS, start_sandbox: bool = True,
                 busy_after_seconds: float = BUSY_AFTER_SECONDS) -> None:
        """poll_seconds: how often the sandbox is read (0: never on a timer -- no polling anywhere, as
        tests with a frozen source want); live_check_seconds: the lab screen's re-check period (0: off);
        busy_after_seconds: how long a poll may go unanswered before the sandbox shows as busy."""
        super().__init__()
        self.source = source
        self.poll_seconds = poll_seconds
        self.busy_after_seconds = busy_after_seconds
        self.live_check_seconds = live_check_seconds
        self.start_sandbox = start_sandbox
        self.labs_loaded = False
        self.resume_lab: str | None = None
        self._polling = False
        self._poll_started = time.monotonic()
        self._busy_since: float | None = None  # when the sandbox stopped answering promptly
        self._down_dialog_open = False

    # -- start ----------------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        settings = self.source.settings()
        self.theme = THEMES.get(str(settings.get("theme")), THEMES["dark"])
        self.resume_lab = settings.get("last_lab")
        self.sandbox = SandboxView(state="starting", endpoint=self.source.endpoint,
                                   message="looking for the sandbox…")
        # Reading the labs and the sandbox starts once the first frame is on screen: their threads would
        # otherwise compete with it for the interpreter.
        self.call_after_refresh(self.load)

    def load(self) -> None:
        self.call_source(self.source.labs, done=self.labs_arrived, label="load the labs")
        self.call_source(self.source.ensure_running if self.start_sandbox else self.source.sandbox,
                         done=self.sandbox_arrived, label="start the sandbox")
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.poll_sandbox)
        self.run_worker(warm_code_highlighting, thread=True, group="warm-up")

    def labs_arrived(self, labs: tuple[LabSummary, ...]) -> None:
        first = not self.labs_loaded
        self.labs_loaded = True
        self.labs = labs
        # Reopening resumes where the learner left: in the lab they had open (only at the start).
        if first and self.resume_lab in {s.lab.id for s in labs} and isinstance(self.screen, HomeScreen):
            self.open_lab(self.resume_lab)

    # -- calling the data source off the event loop ---------------------------------------------------------
    def call_source(self, call: Callable[..., Result], *args: Any, done: Callable[[Result], None] | None = None,
                    failed: Callable[[], None] | None = None, label: str = "", group: str = "source") -> None:
        """Run `call(*args)` in a thread; hand its result to `done` on the event loop. A dead sandbox opens
        the restart dialog; any other failure is shown to the learner (and `failed` is called)."""

        def run() -> None:
            try:
                result = call(*args)
            except self.source.sandbox_gone as exc:
                self.call_from_thread(self.sandbox_lost, str(exc))
                if failed:
                    self.call_from_thread(still_there, failed)
                return
            except Exception as exc:  # noqa: BLE001 -- the learner sees what failed; the UI keeps running
                message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
                self.call_from_thread(self.notify, f"{label or 'request'} failed: {message}", title="Error",
                                      severity="error", timeout=8)
                if failed:
                    self.call_from_thread(still_there, failed)
                return
            if done is not None:
                self.call_from_thread(still_there, done, result)

        self.run_worker(run, thread=True, group=group, name=label or "source call")

    def refresh_labs(self) -> None:
        self.call_source(self.source.labs, done=self.labs_arrived, label="load the labs", group="labs")

    # -- the sandbox ----------------------------------------------------------------------------------------
    def poll_sandbox(self) -> None:
        if self.sandbox is not None and self.sandbox.state == "starting":
            return
        if self._polling:
            self.still_waiting()
            return
        self._polling = True
        self._poll_started = time.monotonic()

        def done(view: SandboxView) -> None:
            self._polling = False
            self.sandbox_arrived(view)

        self.call_source(self.source.sandbox, done=done, failed=self._poll_failed, label="read the sandbox",
                         group="poll")

    def _poll_failed(self) -> None:
        self._polling = False

    def still_waiting(self) -> None:
        """The last poll has not come back yet: past busy_after_seconds, say the sandbox is busy and for how
        long it has been (it is not dead: a dead one refuses at once)."""
        waited = time.monotonic() - (self._busy_since or self._poll_started)
        if waited >= self.busy_after_seconds:
            self.show_busy(waited)

    def show_busy(self, waited: float) -> None:
        if self._busy_since is None:
            self._busy_since = time.monotonic() - waited
        last = self.sandbox if self.sandbox is not None and self.sandbox.answering else None
        seconds = int(waited)
        message = f"sandbox busy, waiting for an answer ({seconds} s)"
        if last is None:
            self.sandbox = SandboxView("busy", self.source.endpoint, message=message, waiting_seconds=seconds)
        else:
            self.sandbox = replace(last, state="busy", message=message, waiting_seconds=seconds)

    def sandbox_arrived(self, view: SandboxView) -> None:
        if view.state == "busy":  # the poll itself gave up waiting; the next one waits again
            self.show_busy(time.monotonic() - (self._busy_since or self._poll_started))
            return
        self._busy_since = None
        self.sandbox = view
        if view.state == "down":
            self.sandbox_lost(view.message)

    def sandbox_lost(self, message: str) -> None:
        if self.sandbox is None or self.sandbox.state != "down":
            self.sandbox = SandboxView(state="down", endpoint=self.source.endpoint, message=message)
        if not self._down_dialog_open:
            self._down_dialog_open = True
            from tui.screens.sandbox_down import SandboxDownScreen

            self.push_screen(SandboxDownScreen(self.source.endpoint, message), self._down_dialog_closed)

    def _down_dialog_closed(self, restart: bool | None) -> None:
        self._down_dialog_open = False
        if restart:
            self.action_restart_sandbox()

    def action_restart_sandbox(self) -> None:
        self.sandbox = SandboxView(state="starting", endpoint=self.source.endpoint, message="starting it again…")
        self.notify("Starting the sandbox again; its saved state comes back.", title="Sandbox")
        self.call_source(self.source.restart, done=self.restarted, failed=self._restart_failed,
                         label="restart the sandbox", group="restart")

    def restarted(self, view: SandboxView) -> None:
        self.sandbox_arrived(view)
        if view.running:
            self.notify("The sandbox is back; nothing you did was lost.", title="Sandbox")
            self.refresh_labs()

    def _restart_failed(self) -> None:
        self.sandbox = SandboxView(state="down", endpoint=self.source.endpoint,
                                   message="it did not start; see the error above")

    # -- what screens and the palette ask for ---------------------------------------------------------------
    def on_open_lab(self, message: OpenLab) -> None:
        self.open_lab(message.lab_id)

    def open_lab(self, lab_id: str) -> None:
        from tui.screens.lab import LabScreen

        if self.current_mode != "home":
            self.switch_mode("home")
        if isinstance(self.screen, LabScreen) and self.screen.lab_id == lab_id:
            return
        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        self.push_screen(LabScreen(lab_id))

    def remember_lab(self, lab_id: str) -> None:
        self.resume_lab = lab_id

    def on_copy_text(self, message: CopyText) -> None:
        self.copy_to_clipboard(message.text)
        first = message.text.splitlines()[0] if message.text else ""
        self.notify(first + (" …" if "\n" in message.text else ""), title="Copied to the clipboard")

    def on_clock_action(self, message: ClockAction) -> None:
        self.action_clock(message.action, message.value)

    def action_clock(self, action: str, value: str | None = None) -> None:
        def done(_clock: object) -> None:
            self.notify(f"clock: {action} {value or ''}".strip(), title="Sim time")
            self.poll_sandbox()

        self.call_source(self.source.clock, action, value, done=done, label=f"clock {action}", group="clock")

    def on_inject_scenario(self, message: InjectScenario) -> None:
        self.inject(message.scenario, message.params)

    def inject(self, scenario: str, params: dict[str, object]) -> None:
        def done(fault: Any) -> None:
            self.notify(f"{scenario} injected", title="Failure", severity="warning")
            self.poll_sandbox()

        self.call_source(self.source.inject, scenario, params, done=done, label=f"inject {scenario}",
                         group="faults")

    def recover(self) -> None:
        def done(_: object) -> None:
            self.notify("Every active failure has ended.", title="Recovered")
            self.poll_sandbox()

        self.call_source(self.source.recover, done=done, label="end the failures", group="faults")

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        dark = self.theme != THEMES["dark"]
        self.theme = THEMES["dark" if dark else "light"]
        self.call_source(self.source.save_setting, "theme", "dark" if dark else "light", label="save the theme")


def warm_code_highlighting() -> None:
    """Pygments compiles a language's rules the first time it highlights it, which would stall the first
    step's rendering: do it now, off the event loop, for the languages the labs' commands are written in."""
    from pygments.lexers import get_lexer_by_name

    for language in ("bash", "python", "json"):
        get_lexer_by_name(language)


def still_there(callback: Callable[..., None], *args: Any) -> None:
    """Call back a widget or screen only while it is on the app: the learner may have left it while the
    call ran."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, MessagePump) and not isinstance(owner, App) and not owner.is_attached:
        return
    callback(*args)


def _screen(module: str, name: str) -> Screen[None]:
    from importlib import import_module

    return getattr(import_module(f"tui.screens.{module}"), name)()


def run_app() -> None:
    """Open the app over the sandbox of LAB_STATE_DIR / LAB_PORT (the defaults of the `lab` command)."""
    from tui.live import LiveSource

    source = LiveSource.from_environment(os.environ)
    LabApp(source).run()
