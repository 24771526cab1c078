"""What the sandbox process loads before it answers: not pytest (time_machine, a pytest plugin, imports it when
it is installed) nor jsonschema (the fault rules check documents with it, once a rule is sent)."""

from __future__ import annotations

import subprocess
import sys


def test_the_sandbox_loads_without_pytest_or_jsonschema():
    code = ("import sys, lab.sandbox.server, lab.sandbox.core, lab.backends.embedded\n"
            "from lab.sandbox.timetravel import time_machine\n"
            "import datetime\n"
            "with time_machine.travel(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), tick=False):\n"
            "    assert datetime.datetime.now(datetime.UTC).year == 2030\n"
            "print(sorted(name for name in ('pytest', 'jsonschema') if name in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert found.strip() == "[]"


def test_time_machine_is_the_one_pytest_knows_when_pytest_is_loaded():
    import time_machine

    from lab.sandbox.timetravel import time_machine as loaded

    assert loaded is time_machine and "pytest" in sys.modules
