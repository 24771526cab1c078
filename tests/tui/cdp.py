"""Just enough of the Chrome DevTools Protocol to drive Debian's headless Chromium from a test.

No browser download and no extra package: the browser is /usr/bin/chromium and the protocol goes over
aiohttp's websocket client (aiohttp comes with textual-serve). The browser resolves nothing but 127.0.0.1,
so a page can never reach beyond this machine.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

BROWSER_NAMES = ("chromium", "chromium-browser")
LOOPBACK_ONLY = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSER_NAMES) if path), None)


class Page:
    """One browser tab: send commands, wait for conditions, type keys, take screenshots."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        await self.socket.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = await self.socket.receive(timeout=max(0.1, deadline - time.monotonic()))
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"the browser closed the DevTools connection ({message.type})")
            body = json.loads(message.data)
            if body.get("id") == message_id:
                if "error" in body:
                    raise RuntimeError(f"{method}: {body['error']}")
                return body.get("result", {})
        raise TimeoutError(f"the browser did not answer {method} within {timeout:.0f}s")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def press(self, key: str, code: str, key_code: int, text: str = "") -> None:
        for kind in ("keyDown", "keyUp"):
            params: dict[str, Any] = {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code}
            if kind == "keyDown" and text:
                params["text"] = text
            await self.send("Input.dispatchKeyEvent", **params)

    async def type(self, text: str) -> None:
        for char in text:
            await self.press(char, f"Key{char.upper()}" if char.isalpha() else "", ord(char.upper()), char)

    async def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


class Browser:
    """Headless Chromium with a throw-away profile; `async with Browser(path) as page:`."""

    def __init__(self, executable: str, width: int = 1000, height: int = 640) -> None:
        self.executable = executable
        self.size = (width, height)
        self.profile = tempfile.TemporaryDirectory(prefix="tui-browser-")
        self.process: subprocess.Popen[bytes] | None = None
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Page:
        profile = Path(self.profile.name)
        self.process = subprocess.Popen(
            [self.executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-sync", "--disable-component-update", f"--host-resolver-rules={LOOPBACK_ONLY}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port = await self._devtools_port(profile / "DevToolsActivePort")
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json(content_type=None)
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        socket = await self.session.ws_connect(page_url, max_msg_size=0)
        page = Page(socket)
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def _devtools_port(self, marker: Path, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited at start (code {self.process.returncode})")
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            await asyncio.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    async def __aexit__(self, *exc_info: object) -> None:
        if self.session is not None:
            await self.session.close()
        if self.process is not None:
            await asyncio.to_thread(stop_process_group, self.process)
        await asyncio.to_thread(remove_tree, Path(self.profile.name))


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a process started in a session of its own and every process of its group.

    Chromium's helpers (renderer, crash handler) outlive the browser process for a moment and keep writing into
    the profile; removing the profile before they are gone failed on a fresh machine's first run."""
    group = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(group):
            time.sleep(0.05)
        if not _group_alive(group):
            return
    process.wait(timeout=timeout)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_tree(path: Path, attempts: int = 20) -> None:
    """Remove a folder whose last writers may still be finishing (retried; what cannot go is reported)."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.1)
    shutil.rmtree(path)  # the error says what is still there
