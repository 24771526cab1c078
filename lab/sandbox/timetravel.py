"""time_machine, which lets moto and the engines see the sim clock's time, loaded without pytest.

time_machine is also a pytest plugin: it imports pytest as it loads, when pytest is installed (in a development
or test venv; the lab's own venv has none), a fifth of the sandbox's start-up. The sandbox never uses the
plugin, so pytest is kept from loading with it -- unless pytest is already loaded (the test suite), where
time_machine gets it as usual.
"""

from __future__ import annotations

import sys

if "pytest" in sys.modules or "time_machine" in sys.modules:
    import time_machine
else:
    sys.modules["pytest"] = None  # `import pytest` fails: time_machine goes without
    try:
        import time_machine
    finally:
        del sys.modules["pytest"]

__all__ = ["time_machine"]
