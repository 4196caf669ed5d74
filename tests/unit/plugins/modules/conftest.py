"""The module tests drive modules with the fake API objects of ../module_utils (route_objects.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "module_utils"))
