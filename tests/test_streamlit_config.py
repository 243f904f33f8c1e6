"""The Streamlit settings `make run` serves with (.streamlit/config.toml), as Streamlit itself reads them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.browser import REPO

READ_OPTIONS = """
import json
from streamlit import config
config.get_config_options(force_reparse=True)
names = ["server.fileWatcherType", "server.headless", "browser.gatherUsageStats", "client.showErrorDetails"]
print(json.dumps({name: config.get_option(name) for name in names}))
"""


def served_options() -> dict:
    """The options a server started in the repository gets (a fresh process: Streamlit reads them once)."""
    done = subprocess.run([sys.executable, "-c", READ_OPTIONS], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_server_watches_no_source_files():
    """Watching walks every imported module at each session's start and each run's end (about 0.45 s of the
    server's time at every page opened, issue 17): a server runs released code."""
    options = served_options()
    assert options["server.fileWatcherType"] == "none"
    assert options["server.headless"] is True
    assert options["browser.gatherUsageStats"] is False  # offline: no statistics sent out
    assert options["client.showErrorDetails"] == "none"  # never a traceback on the page
