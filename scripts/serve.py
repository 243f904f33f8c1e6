"""Start the Streamlit app with the heavy imports done, and its first page built, before the first visitor.

``make run`` calls this instead of ``streamlit run app.py``: Streamlit executes app.py in this
same process for each session, so modules imported here (GeoPandas, SciPy, folium …, about 1.3 s
on the standard machine) are already loaded when the first page is drawn. Once the server answers,
a warm-up visit (:func:`visit`) runs the default page in a session of its own, as a browser would, so
the city, its coverage and priority and the coverage map's page are in the shared caches before the
first person arrives (a person arriving meanwhile waits for the same builds, never repeats them). A
store with accounts shows that visit the login page, which builds the same first page for later
(``views.shared.prebuild_first_page``) and shows nothing of it. Set ``PLANNER_WARM_UP=0`` to skip it.
The objects of those imports are frozen out of the garbage collector's scans (:func:`freeze_imports`).
Arguments are passed to ``streamlit run app.py`` unchanged, e.g.
``python scripts/serve.py --server.port 8600``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

from streamlit import config
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import Runtime
from streamlit.web import cli
from websockets.sync.client import connect

# Warm imports (see the docstring): GeoPandas, pyogrio, shapely, pyproj, SciPy's HiGHS, highspy,
# openpyxl, folium. Only geo/ (installed by `make`) and libraries: the Streamlit pages themselves
# must first be imported inside the running server, where their caches attach to its runtime.
from geo import pipeline, plan  # noqa: F401
from geo.render import export, maps, notice  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
WARM_UP_ENV = "PLANNER_WARM_UP"


def visit(base_url: str, timeout_s: float = 600.0) -> str:
    """Run the app's default page once in a new session at ``base_url`` (``http://host:port``), as a browser's
    first visit does (Streamlit's websocket, one "run the script" message), and wait for the run to end.

    Returns how the run ended (``FINISHED_SUCCESSFULLY`` …, or ``"closed"`` if the server closed first).
    Nothing the page sends back is kept.
    """
    request = BackMsg()
    request.rerun_script.query_string = ""
    request.rerun_script.page_script_hash = ""
    stream = base_url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
    with connect(stream, subprotocols=["streamlit"], open_timeout=30, max_size=None) as socket:
        socket.send(request.SerializeToString())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if message.WhichOneof("type") == "script_finished":
                return ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
    return "closed"


def warm_up(started_s: float) -> None:
    """Wait for the server to answer, then :func:`visit` it once; report on stderr. Never stops the server."""
    try:
        while not Runtime.exists():  # the options are read (command line, .streamlit/config.toml) once it is
            time.sleep(0.05)
        host = config.get_option("server.address") or "localhost"
        base_url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{config.get_option('server.port')}"
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        ended = visit(base_url)
        print(
            f"warm-up: first page built ({ended}) {time.perf_counter() - started_s:.1f} s after start", file=sys.stderr
        )
    except Exception as error:  # the app serves anyway: the first visitor builds what this did not
        print(f"warm-up: skipped ({type(error).__name__}: {error})", file=sys.stderr)


def freeze_imports() -> int:
    """Move every object alive now (the modules imported above, their functions, classes and constants: they
    live as long as the server) out of the cyclic collector's scans (:func:`gc.freeze`); returns how many.

    A full collection otherwise rescanned them at every one (about 180,000 objects: 0.1-0.4 s a collection
    on the sample's server, about one per weight change), and one falling before a page's figures delayed
    them by as much. Done once, before any session or data exists: nothing of a user's is pinned (freezing
    cached results later would keep whatever of them became garbage alive while the server runs).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def main() -> None:
    freeze_imports()
    sys.argv = ["streamlit", "run", str(REPO / "app.py"), *sys.argv[1:]]
    if os.environ.get(WARM_UP_ENV, "1") != "0":
        threading.Thread(target=warm_up, args=(time.perf_counter(),), name="warm-up", daemon=True).start()
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
