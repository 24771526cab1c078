"""`lab serve` in a real browser: headless Chromium opens the page, opens a lab and runs its checks.

The page's terminal is a canvas, so the test follows what the UI did through what it leaves behind (the
last lab it opened, the attempt lab.progress recorded) and through the text the app sent to the page
(a WebSocket tap installed before the page loads). A screenshot is kept in tests/tui/artifacts/ and its
path printed.

Needs Debian's Chromium (`apt-get install -y chromium`); skipped, saying so, without it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.tui.cdp import Browser, Page, find_browser

BROWSER = find_browser()
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAB = "01-aws-backup"
TAP_WEBSOCKET = """
(() => {
  const Native = window.WebSocket;
  const received = [];
  window.__tuiText = () => received.join("");
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", async (event) => {
        let data = event.data;
        if (data instanceof Blob) data = await data.arrayBuffer();
        received.push(data instanceof ArrayBuffer ? new TextDecoder().decode(data) : String(data));
      });
    }
  };
})();
"""

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio,
    pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine; install it (Debian: apt-get install -y "
                                               "chromium) to run the browser test of lab serve"),
]


async def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def last_lab(state_dir: Path) -> str | None:
    from lab import progress

    return progress.load(state_dir).last_lab


def attempts(state_dir: Path) -> int:
    from lab import progress

    record = progress.load(state_dir).lab(LAB)
    return int(record.attempts) if record is not None else 0


async def screen_text(page: Page) -> str:
    return await page.evaluate("window.__tuiText ? window.__tuiText() : ''") or ""


async def test_lab_serve_opens_a_lab_and_runs_a_check_in_chromium(fresh_sandbox, tmp_path: Path) -> None:
    fresh_sandbox.up()
    state_dir = fresh_sandbox.state_dir
    web_port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "lab", "serve", "--port", str(web_port), "--state-dir", str(state_dir),
             "--sandbox-port", str(fresh_sandbox.port)],
            env=fresh_sandbox.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        await wait_until(lambda: port_open(web_port) or server.poll() is not None, "lab serve to listen")
        assert server.poll() is None, f"lab serve exited:\n{log_path.read_text()}"
        async with Browser(BROWSER) as page:
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=TAP_WEBSOCKET)
            await page.send("Page.navigate", url=f"http://127.0.0.1:{web_port}/")
            await wait_until(lambda: page.evaluate("document.body.classList.contains('-first-byte')"),
                             "the app's first frame in the page")
            await wait_until(lambda: _contains(page, "Labs"), "the home screen with the labs")
            await page.click(500, 320)  # focus the terminal

            async def open_lab() -> bool:
                if last_lab(state_dir) == LAB:
                    return True
                await page.press("Enter", "Enter", 13, "\r")
                await asyncio.sleep(1.0)
                return last_lab(state_dir) == LAB

            await wait_until(open_lab, f"lab {LAB} to open", timeout=45)
            await wait_until(lambda: _contains(page, "Step 1 of"), "the first step's instructions")
            await page.type("k")
            await wait_until(lambda: attempts(state_dir) >= 1, "the checks to run and be recorded", timeout=60)
            await wait_until(lambda: _contains(page, "pass mark"), "the checks panel to show the result")
            await asyncio.sleep(0.5)  # let the last frame paint before the picture
            shot = await page.screenshot(ARTIFACTS / "lab_serve_checks.png")
            print(f"\nscreenshot of lab serve after a check: {shot}")
            assert shot.stat().st_size > 10_000
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)


async def _contains(page: Page, text: str) -> bool:
    return text in await screen_text(page)
