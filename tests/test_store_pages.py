"""The pages of the system of record (issue 14), page side of the review: upload limits said per uploader,
the publish page's approved plan, the saved plan's figures, the save and installation forms."""

from __future__ import annotations

import pytest

from geo.i18n import text
from views import shared


def test_an_uploaders_own_limit_is_a_rule_more_specific_than_the_one_for_every_uploader():
    general = shared.ui_stylesheet("zh", 200)
    own = shared.uploader_limit_css("inspections_photos", "zh", 10)
    assert shared.css_string(text("uploader_limit", "zh", limit="200")) in general
    assert own.startswith('[class*="st-key-inspections_photos"] [data-testid="stFileUploaderDropzoneInstructions"]')
    assert own.endswith(f"::after {{ content: {shared.css_string(text('uploader_limit', 'zh', limit='10'))}; }}")
    assert shared.css_string(text("uploader_limit", "en", limit="20")) in shared.uploader_limit_css("a-", "en", 20.0)


@pytest.mark.parametrize("key", ['x"] body', "a b", "", "ä"])
def test_an_uploaders_key_that_could_break_out_of_the_selector_is_refused(key):
    with pytest.raises(ValueError):
        shared.uploader_limit_css(key, "zh", 10)
