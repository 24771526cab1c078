"""The browser test's cleanup: a browser whose helpers outlive it cannot break the profile's removal."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.tui.cdp import remove_tree, stop_process_group

# A stand-in for Chromium's process tree: the main process starts a helper in its group that keeps writing
# into the profile, and ignores SIGTERM for a moment, as a crash handler finishing its report does.
_TREE = """
import os, signal, subprocess, sys, time
profile = sys.argv[1]
subprocess.Popen([sys.executable, "-c", '''
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: None)
n = 0
while True:
    os.makedirs(os.path.join(sys.argv[1], "Default", str(n % 50)), exist_ok=True)
    n += 1
    time.sleep(0.001)
''', profile])
time.sleep(60)
"""


def test_a_process_tree_still_writing_into_the_profile_is_stopped_and_the_profile_removed(tmp_path: Path):
    profile = tmp_path / "profile"
    profile.mkdir()
    browser = subprocess.Popen([sys.executable, "-c", _TREE, str(profile)], start_new_session=True)
    deadline = time.monotonic() + 10
    while not (profile / "Default").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (profile / "Default").exists(), "the helper never started writing"
    stop_process_group(browser, timeout=1)
    remove_tree(profile)
    assert not profile.exists()
    assert browser.returncode is not None
