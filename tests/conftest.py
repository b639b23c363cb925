"""Shared test setup: the repository root on ``sys.path``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Hypothesis's default 200 ms deadline per example is a timing assert: on a loaded 2-core CI machine a property test
# failed with DeadlineExceeded while its logic was right. Speed is asserted in benchmarks (make bench), not here.
from hypothesis import settings  # noqa: E402

settings.register_profile("pic", deadline=None)
settings.load_profile("pic")
