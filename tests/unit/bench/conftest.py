"""The bench's modules (tests/bench) import one another by name, as run.py runs them."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
