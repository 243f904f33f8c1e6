"""发布 · Publish — one self-contained HTML page for the bureau's public notice (整改公开)."""

from __future__ import annotations

import streamlit as st

from geo.export import file_sha256
from geo.i18n import text
from geo.publish import publish_html
from views import shared
from views.shared import t

def render() -> None:
    st.title(t("page_publish"))
    st.write(t("publish_intro"))
    st.caption(t("publish_uses_plan"))

    notice_lang = st.radio(t("publish_lang"), ["zh", "en"], horizontal=True, format_func=lambda c: {"zh": "中文", "en": "English"}[c],
                           index=0 if shared.lang() == "zh" else 1)
    title = st.text_input(t("publish_title"), value=text("publish_default_title", notice_lang))

    plan = shared.current_plan()
    for summary in plan.summaries():
        st.write(f"**{summary['program_name']}** — {summary['sets']} {t('sets_unit')}, "
                 f"¥{summary['spent_cny']:,.0f}, {t('newly_served')} {summary['population_newly_served']:,}")


    def page_bytes() -> bytes:
        city = shared.city()
        html = publish_html(plan, shared.current_config(), city.districts, shared.scored(), city.fitness_paths,
                            lang=notice_lang, title=title, data_sha256=file_sha256(shared.data_path()),
                            synthetic_notice=True)
        return html.encode("utf-8")


    st.download_button(t("publish_download"), data=page_bytes, file_name="fitness_path_plan_notice.html",
                       mime="text/html", type="primary", on_click="ignore")


shared.guarded(render)
