"""PySpark on first use: ``requirements-spark.txt`` installed into the running interpreter's environment when
``pyspark`` is missing and Java is there (idempotent: an installed pyspark is left as it is).

Why not in ``make setup``: PySpark is a 400 MB package with its own JVM jars, needed only by the city-scale
benchmark (``python -m bench spark``) and its one test. Without Java (PySpark 4 needs Java 17 or later) both
say plainly what they skipped instead of failing.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements-spark.txt"


def java_missing() -> str | None:
    """Why Spark cannot run here, or None: PySpark launches ``java`` from ``JAVA_HOME`` or the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return "no Java on this machine (PySpark 4 needs Java 17: apt-get install openjdk-17-jre-headless)"


def ensure_pyspark() -> str | None:
    """Install PySpark if needed; the reason it cannot run, or None when it can."""
    missing = java_missing()
    if missing:
        return missing
    if importlib.util.find_spec("pyspark") is not None:
        return None
    # pytest-xdist's workers each collect the Spark test: one installs, the others wait for it and find it
    with (Path(tempfile.gettempdir()) / "pic-pyspark-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        importlib.invalidate_caches()
        if importlib.util.find_spec("pyspark") is None:
            print(f"installing {REQUIREMENTS.name} (PySpark, first use)", file=sys.stderr, flush=True)
            command = [sys.executable, "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)]
            done = subprocess.run(command, check=False)
            if done.returncode != 0:
                return f"pip could not install {REQUIREMENTS.name} (exit {done.returncode})"
            importlib.invalidate_caches()
    return None
