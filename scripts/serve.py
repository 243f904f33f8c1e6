"""Start the Streamlit app with the heavy imports done before the first visitor arrives.

``make run`` calls this instead of ``streamlit run app.py``: Streamlit executes app.py in this
same process for each session, so modules imported here (GeoPandas, SciPy, folium …, about 1.3 s
on the standard machine) are already loaded when the first page is drawn. Arguments are passed
to ``streamlit run app.py`` unchanged, e.g. ``python scripts/serve.py --server.port 8600``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Warm imports (see the docstring). Only geo/ and libraries: the Streamlit pages themselves must
# first be imported inside the running server, where their caches attach to its runtime.
import geo.render.export  # noqa: E402,F401  (openpyxl)
import geo.render.maps  # noqa: E402,F401  (folium)
import geo.pipeline  # noqa: E402,F401  (GeoPandas, pyogrio, shapely, pyproj)
import geo.plan  # noqa: E402,F401  (SciPy's HiGHS, highspy)
import geo.render.notice  # noqa: E402,F401
from streamlit.web import cli  # noqa: E402


def main() -> None:
    sys.argv = ["streamlit", "run", str(REPO / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
