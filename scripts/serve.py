"""Start the Streamlit app with the heavy imports done before the first visitor arrives.

``make run`` calls this instead of ``streamlit run app.py``: Streamlit executes app.py in this
same process for each session, so modules imported here (GeoPandas, SciPy, folium …, about 1.3 s
on the standard machine) are already loaded when the first page is drawn. Arguments are passed
to ``streamlit run app.py`` unchanged, e.g. ``python scripts/serve.py --server.port 8600``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.web import cli

# Warm imports (see the docstring): GeoPandas, pyogrio, shapely, pyproj, SciPy's HiGHS, highspy,
# openpyxl, folium. Only geo/ (installed by `make`) and libraries: the Streamlit pages themselves
# must first be imported inside the running server, where their caches attach to its runtime.
from geo import pipeline, plan  # noqa: F401
from geo.render import export, maps, notice  # noqa: F401

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.argv = ["streamlit", "run", str(REPO / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
