"""The eligibility page's land-less list says how its sites' distances were measured (issue 16 review): on foot
the intro says "on foot along the roads", not "straight-line distance", and the distances are the walks.

The river city (tests/network_helpers.py): N (C000, no land) on the north bank, the Liu River between y = 0 and
y = 300, one bridge at x = 2,000. Site A on the south bank 386 m across the water from N (3,930 m on foot by the
bridge); site B 600 m east of N on the north bank, 30 m off its street (630 m on foot).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import label, text
from tests.network_helpers import city_file, river_city
from tests.site_helpers import sites_at
from views import shared

SITE_1 = {"zh": "距离 1（米）", "en": "Distance 1 (m)"}
NEAREST = {"zh": "最近公共场地 1", "en": "Nearest public site 1"}
NEAREST_SET = {"zh": "距最近健身路径（米）", "en": "Distance to nearest set (m)"}


@pytest.fixture
def river_with_sites(tmp_path, monkeypatch):
    communities, paths, roads = river_city()
    sites = sites_at(("A", 300, -30, "square", 800.0, "yes"), ("B", 700, 330, "square", 800.0, "yes"))
    path = city_file(
        tmp_path / "river.gpkg",
        {"communities": communities, "fitness_paths": paths, "roads": roads, "public_sites": sites},
    )
    monkeypatch.setenv("PLANNER_DATA", str(path))


def eligibility_page(lang: str, distance: str) -> AppTest:
    app = AppTest.from_file("../app.py", default_timeout=120)
    app.session_state["lang"] = lang
    app.run()
    app.sidebar.radio(key="widget_distance").set_value(distance).run()
    app.switch_page("views/eligibility.py")
    app.run()
    assert not app.exception and not app.error, app.exception
    return app


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("distance", "intro", "site", "metres"),
    [("straight", "landless_intro", "场地A", np.hypot(200, 330)), ("network", "landless_intro_network", "场地B", 630)],
)
def test_the_landless_intro_says_the_distance_its_sites_were_measured_by(
    river_with_sites, lang, distance, intro, site, metres
):
    app = eligibility_page(lang, distance)
    captions = [c.value for c in app.caption]
    assert text(intro, lang, radius="500") in captions
    other = "landless_intro" if intro == "landless_intro_network" else "landless_intro_network"
    assert text(other, lang, radius="500") not in captions
    listed = next(f.value for f in app.dataframe if NEAREST[lang] in f.value.columns)
    assert listed[NEAREST[lang]].tolist() == [site]
    assert listed[SITE_1[lang]].iloc[0] == pytest.approx(metres, abs=1)


def test_the_intro_on_foot_says_on_foot_in_both_languages():
    assert "步行距离" in text("landless_intro_network", "zh", radius="500")
    assert "直线距离" not in text("landless_intro_network", "zh", radius="500")
    assert "on foot" in text("landless_intro_network", "en", radius="500")
    assert "straight" not in text("landless_intro_network", "en", radius="500")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("distance", ["straight", "network"])
def test_the_pages_csv_files_say_the_distance_beside_their_metres(river_with_sites, monkeypatch, lang, distance):
    """Both downloads of the page (the district's communities, its land-less list) carry the distance on every row,
    just before their first distance column: a CSV has no parameters sheet to say it."""
    downloads = []
    original = shared.download_buttons

    def spy(tables, *args, **kwargs):
        downloads.append(tables)
        return original(tables, *args, **kwargs)

    monkeypatch.setattr(shared, "download_buttons", spy)
    eligibility_page(lang, distance)
    assert len(downloads) == 2
    words = label("export", f"distance_{distance}", lang)  # 直线距离 / 步行距离（沿道路）, In a straight line …
    header = {"zh": "距离计算方式", "en": "Distance"}[lang]
    for table, first_distance in zip(downloads, (NEAREST_SET, NEAREST)):
        rows = list(csv.reader(io.StringIO(shared.export_bytes(table, ".csv", {}, lang).decode("utf-8-sig"))))
        columns = rows[0]
        assert columns[columns.index(first_distance[lang]) - 1] == header, columns
        assert len(rows) > 1 and {row[columns.index(header)] for row in rows[1:]} == {words}
