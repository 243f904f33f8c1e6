"""Render a plan as one self-contained public-notice HTML page (整改公开); render only, decide nothing.

The page reads as a Chinese public notice: the plan (整改方案: its rules in sentences, the coverage
map with the selected communities, a summary per programme, the list of selected communities), the
results (整改成效, filled once installations are recorded), the notice period (公示期) with the
feedback lines, the signature (落款: issuing bureau and date) and a technical appendix with every
parameter needed to reproduce the plan. Scripts and styles are inline (the map is
:func:`geo.render.maps.standalone_html` in an ``<iframe srcdoc>``), and a Content-Security-Policy
forbids loading anything, so the file opens from disk, a USB stick or an e-mail attachment with no
internet and no server.
"""

from __future__ import annotations

import html
import math
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import i18n
from geo.config import STANDARDS
from geo.errors import data_error
from geo.i18n import check_lang, column_label, district_names
from geo.plan import Plan
from geo.render.export import flattened, parameter_value
from geo.render.maps import coverage_map, standalone_html
from geo.render.provenance import plan_parameters

# Nothing but inline scripts, inline styles and data: images; srcdoc frames inherit it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
)

_SUMMARY_COLUMNS = (
    "budget_cny",
    "spent_cny",
    "unspent_cny",
    "communities_newly_equipped",
    "population_newly_served",
    "communities_newly_within_radius",
)
_LIST_COLUMNS = ("rank", "name", "district_name", "population_newly_served", "cost_cny")

_STYLE = """
body { margin: 0 auto; max-width: 1100px; padding: 24px 28px 40px; color: #1a1a1a;
  font: 15px/1.7 "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
  "WenQuanYi Micro Hei", sans-serif; background: #ffffff; }
h1 { font-size: 26px; margin: 8px 0 12px; text-align: center; letter-spacing: 1px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #6A1B4D; }
h3 { font-size: 16px; margin: 18px 0 6px; }
h4 { font-size: 15px; margin: 14px 0 4px; }
ul.weights { margin: 4px 0 8px; }
.signature { margin: 32px 0 8px; text-align: right; }
.signature p { margin: 2px 0; }
p { margin: 6px 0; }
.notice { background: #fff6e0; border-left: 4px solid #E69F00; padding: 6px 12px; }
.note { color: #555555; font-size: 13px; }
iframe.map { display: block; width: 100%; height: 620px; border: 1px solid #bbbbbb; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 14px; }
th, td { border: 1px solid #c8c8c8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2eef1; font-weight: bold; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; background: #faf8f9; }
td code { font-size: 12px; word-break: break-all; }
footer { margin-top: 28px; color: #666666; font-size: 12px; text-align: center; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  iframe.map { height: 150mm; page-break-inside: avoid; }
  h2, h3, h4 { page-break-after: avoid; }
  section.appendix { page-break-before: always; }
  tr { page-break-inside: avoid; }
  .note { display: none; }
}
"""

# Goes into the map's own document: the layer control is a screen tool, not print content.
_MAP_PRINT_STYLE = (
    "<style>@media print { .leaflet-control-layers, .leaflet-control-zoom { display: none !important; } }</style>"
)


def publish_html(
    plan: Plan,
    districts: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    lang: str = "zh",
    title: str | None = None,
    data_sha256: str | None = None,
    synthetic_notice: bool = True,
    parameters: dict | None = None,
    period: tuple[date, date] | None = None,
    issued: date | None = None,
    installed: pd.DataFrame | None = None,
    inspections: pd.DataFrame | None = None,
    approved: dict | None = None,
) -> str:
    """Return the public notice of ``plan`` as one self-contained HTML document.

    The page reads as a Chinese public notice (公示): the heading and a short introduction, then
    一、整改方案 (the rules in sentences, the map, the summary per programme and the selected
    communities), 二、整改成效 (results, to be filled when installations are recorded), 三、公示期
    (the period, and the feedback lines when there are any), the signature (落款: the issuing
    bureau and the issue date) and, after it, 附录：技术参数 (every parameter with its key,
    solver internals only there).

    Parameters
    ----------
    plan : geo.plan.Plan
        The plan to publish, as :func:`geo.plan.run_plan` returns it: its programmes'
        summaries and selected rows fill the tables, the communities as its first programme
        scored them (coverage, eligibility, priority) fill the map, and the configuration it
        was run with gives the rules of the text, the issuing bureau, the feedback lines, the
        default notice period and the parameters table. Nothing on the page can therefore come
        from other settings than the plan's own.
    districts : geopandas.GeoDataFrame
        EPSG:4326 district polygons, as for :func:`geo.render.maps.coverage_map`; also give the
        English district names of the list.
    fitness_paths : geopandas.GeoDataFrame
        EPSG:4326 points of the existing sets.
    lang : {"zh", "en"}, default "zh"
    title : str, optional
        Heading and document title; default the ``[notice] title`` of ``geo/i18n``
        with the city's name from the plan's configuration (``config.toml`` ``[city]``).
    data_sha256 : str, optional
        SHA-256 of the data file, recorded in the parameters table (replaces the one in
        ``parameters``).
    synthetic_notice : bool, default True
        Say that the communities and fitness paths are synthetic (true of the bundled sample).
    parameters : dict, optional
        Plan parameters to list; default :func:`geo.plan.plan_parameters` ``(plan)``.
        Nested dicts are listed under dotted keys; ``data_file`` is shown by file name only,
        so no local folder is published.
    period : (datetime.date, datetime.date), optional
        First and last day of the notice period (公示期); default ``issued`` to ``issued`` plus
        ``config.notice_period_days`` days (``config.toml`` ``[notice] period_days``).
    issued : datetime.date, optional
        The issue date of the signature (落款); default today (the server's local date).
    installed : pandas.DataFrame, optional
        The results (整改成效): per district, ``district_code``, ``planned_sets``, ``planned_cny``,
        ``installed_sets``, ``installed_cny`` (money in CNY) of the approved plans and the sets
        installed against them (:func:`geo.store.installations.planned_vs_installed`). With
        neither this nor ``inspections`` the section says the results are to come.
    inspections : pandas.DataFrame, optional
        The inspection record: ``inspected_on``, ``community_id`` (``name`` if given),
        ``district_code``, ``condition`` (good / needs_repair / damaged / removed), ``findings``
        and ``photos`` (how many; the photos themselves are never published).
    approved : dict, optional
        When ``plan`` is a saved plan as approved (re-run with the same picks): its ``id``, ``name``,
        ``by`` (who approved it) and ``date`` (a :class:`datetime.date`, the approval's). 整改方案
        then opens saying so; without it (today's settings) nothing is said.

    Returns
    -------
    str
        The HTML document. Every text value is HTML-escaped; it loads no script, stylesheet,
        font or image from anywhere (also enforced by a Content-Security-Policy meta tag).

    Raises
    ------
    geo.errors.DataError
        If the period ends before it starts (``notice_period_order``).
    ValueError
        If ``lang`` is unknown, the plan does not record its configuration, or
        :func:`geo.render.maps.coverage_map` refuses the layers.
    """
    check_lang(lang)
    if plan.config is None or not plan.outcomes:
        raise ValueError("publish a plan made by geo.plan.run_plan: it records its configuration and programmes")
    config = plan.config
    scored_communities = plan.outcomes[0].scored
    issued = date.today() if issued is None else issued
    start, end = notice_period(issued, config.notice_period_days) if period is None else period
    if end < start:
        raise data_error("notice_period_order", start=start.isoformat(), end=end.isoformat())

    names = i18n.place_names(config, lang)

    def word(key: str, **values) -> str:
        return i18n.label("notice", key, lang, **values)

    title = word("title", **names) if title is None else str(title)
    parameters = dict(plan_parameters(plan) if parameters is None else parameters)
    if data_sha256 is not None:
        parameters["data_sha256"] = data_sha256

    selected = [(o, o.selected) for o in plan.outcomes]
    selected_ids = [cid for _, rows in selected for cid in rows["community_id"].astype(str)]
    selected_program = {
        cid: outcome.program.name(lang) for outcome, rows in selected for cid in rows["community_id"].astype(str)
    }
    m = coverage_map(
        districts,
        scored_communities,
        fitness_paths,
        lang=lang,
        selected_ids=selected_ids,
        selected_program=selected_program,
        distance=config.distance,
        walk_radius_m=config.walk_radius_m,
    )
    map_document = standalone_html(m).replace("</head>", _MAP_PRINT_STYLE + "</head>", 1)
    names_of_districts = district_names(districts, lang)
    community_names = dict(zip(scored_communities["community_id"].astype(str), scored_communities["name"]))

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(word('intro', **names))}</p>",
    ]
    if synthetic_notice:
        parts.append(f'<p class="notice">{_e(i18n.text("synthetic_notice", lang, **names))}</p>')
    parts.append(f'<section class="plan"><h2>{_e(word("section_plan"))}</h2>')
    if approved is not None:  # the plan as approved, the one 整改成效 reports on
        said_approved = word(
            "approved_plan",
            id=approved["id"],
            name=approved["name"],
            by=approved["by"],
            date=date_text(approved["date"], lang),
        )
        parts.append(f'<p class="approved" data-plan-id="{int(approved["id"])}">{_e(said_approved)}</p>')
    parts += [
        f"<h3>{_e(word('rules'))}</h3>",
        _rules(plan, lang, word),
        f"<h3>{_e(word('map'))}</h3>",
        f'<iframe class="map" title="{_e(word("map_title"))}" srcdoc=\'{_srcdoc(map_document)}\'></iframe>',
        f'<p class="note">{_e(word("map_note"))}</p>',
        f"<h3>{_e(word('summary'))}</h3>",
        _summary_table(plan, lang, word),
        *_stop_sentences(plan, lang, word),
        f"<h3>{_e(word('selected'))}</h3>",
    ]
    for outcome, rows in selected:
        parts.append(f"<h4>{_e(outcome.program.name(lang))}</h4>")
        if len(rows) == 0:
            parts.append(f"<p>{_e(word('none_selected'))}</p>")
        else:
            parts.append(_selected_table(rows, names_of_districts, lang))
            parts += _site_picks(rows, community_names, lang, word)
            if outcome.picks_without_new_residents:  # the inside standard: a set that equips, reaching no one new
                note = word(
                    "picks_inside_only",
                    count=_number(outcome.picks_without_new_residents),
                    radius=_number(config.walk_radius_m),
                )
                parts.append(f'<p class="note">{_e(note)}</p>')
    parts += [
        "</section>",
        f'<section class="results"><h2>{_e(word("section_results"))}</h2>',
        *_results(installed, inspections, names_of_districts, lang, word),
        "</section>",
    ]
    contact = config.contact_zh if lang == "zh" else (config.contact_en or config.contact_zh)
    heading = word("section_period_feedback" if contact else "section_period")
    parts += [
        f'<section class="period"><h2>{_e(heading)}</h2>',
        f'<p class="period" data-start="{start.isoformat()}" data-end="{end.isoformat()}">'
        f"{_e(word('period', start=date_text(start, lang), end=date_text(end, lang)))}</p>",
    ]
    if contact:  # the feedback channel the rectification plan promises (整改公开)
        parts.append(f"<p>{_e(word('feedback_note'))}</p>")
        parts += [f'<p class="contact">{_e(line)}</p>' for line in contact]
    issuer = config.bureau_name(lang) or config.bureau_name_zh
    parts += [
        "</section>",
        f'<div class="signature"><p class="issuer">{_e(issuer)}</p>'
        f'<p class="issued" data-date="{issued.isoformat()}">{_e(date_text(issued, lang))}</p></div>',
        f'<section class="appendix"><h2>{_e(word("appendix"))}</h2>',
        f'<p class="note">{_e(word("parameters_note"))}</p>',
        _parameters_table(parameters, plan, lang, word),
        "</section>",
        f"<footer>{_e(word('footer'))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def notice_period(issued: date, days: int) -> tuple[date, date]:
    """The default notice period: from ``issued`` to ``days`` calendar days after it."""
    return issued, issued + timedelta(days=int(days))


def date_text(day: date, lang: str = "zh") -> str:
    """``day`` as a notice writes it: 2026年11月30日, or 30 November 2026."""
    month = i18n.label("notice", f"month_{day.month}", lang)
    return i18n.label("notice", "date", lang, year=day.year, month=month, day=day.day)


def _rules(plan: Plan, lang: str, word) -> str:
    """The plan's rules in sentences: the standard, the distance (覆盖按直线距离 / 步行距离（沿道路）500 米计) and
    the radius measured so, cost, budgets in full yuan, open space, how, weights."""
    config = plan.config
    separator = word("list_separator")
    budgets = separator.join(
        word("budget_item", program=o.program.name(lang), amount=_number(o.program.budget_cny)) for o in plan.outcomes
    )
    how_key = (
        "how_optimal" if plan.mode == "optimal" else ("how_rank_walk" if config.standard == "walk" else "how_rank")
    )
    how = word(how_key).format(radius=_number(config.walk_radius_m))
    radius = _number(config.walk_radius_m)
    sentences = [
        word(f"rule_standard_{config.standard}", radius=radius),
        word(f"rule_distance_{config.distance}", radius=radius),
        word("rule_radius_network" if config.distance == "network" else "rule_radius", radius=radius),
        word("rule_cost", cost=_number(config.set_cost_cny)),
        word("rule_budgets", budgets=budgets),
        word("rule_open_space", area=_number(config.min_open_space_m2)),
        word("rule_how", how=how),
    ]
    items = [
        word("weight_item", name=word(f"weight_{name}"), weight=_number(weight))
        for name, weight in config.priority_weights.items()
        if weight
    ]
    weights_intro = word("rule_weights_optimal" if plan.mode == "optimal" else "rule_weights_rank")
    return (
        '<div class="rules">'
        + "".join(f"<p>{_e(sentence)}</p>" for sentence in sentences)
        + f"<p>{_e(weights_intro)}</p>"
        + '<ul class="weights">'
        + "".join(f"<li>{_e(item)}</li>" for item in items)
        + "</ul></div>"
    )


def _stop_sentences(plan: Plan, lang: str, word) -> list[str]:
    """Where a programme left money unspent, one sentence saying how much and why (``stop_reason``)."""
    sentences = []
    for outcome in plan.outcomes:
        summary = outcome.summary(lang)
        if summary["unspent_cny"] >= 1:
            phrase = word(
                f"stop_{summary['stop_reason']}",
                program=outcome.program.name(lang),
                unspent=_number(round(summary["unspent_cny"])),
                count=_number(outcome.left_out_to_survey),
            )
            sentences.append(f'<p class="stop" data-program="{_e(outcome.program.key)}">{_e(phrase)}</p>')
    return sentences


def _results(installed, inspections, names_of_districts: dict, lang: str, word) -> list[str]:
    """整改成效: installed against planned per district, then the inspection record (no photos, a count)."""
    if installed is None and inspections is None:
        return [f"<p>{_e(word('results_pending'))}</p>"]
    installed = installed if installed is not None else pd.DataFrame()
    inspections = inspections if inspections is not None else pd.DataFrame()
    parts = []
    if len(installed) == 0 or int(installed["installed_sets"].sum()) == 0:
        parts.append(f'<p class="no-installations">{_e(word("no_installations"))}</p>')
    if len(installed):
        parts += [f"<h3>{_e(word('results_progress'))}</h3>", _progress_table(installed, names_of_districts, word)]
    if len(inspections):
        parts += [
            f"<h3>{_e(word('results_inspections'))}</h3>",
            _inspection_table(inspections, names_of_districts, lang, word),
        ]
    return parts


def _progress_table(installed: pd.DataFrame, names_of_districts: dict, word) -> str:
    """Per district: sets installed of those planned (``1/2``), the money planned and spent (CNY)."""
    head = (
        f'<th>{_e(word("results_district"))}</th><th class="num">{_e(word("results_installed_of_planned"))}</th>'
        f'<th class="num">{_e(word("results_planned_cny"))}</th>'
        f'<th class="num">{_e(word("results_installed_cny"))}</th>'
    )

    def row(label: str, done: int, planned: int, planned_cny, installed_cny, css: str = "") -> str:
        return (
            f"<tr{css}><td>{_e(label)}</td>"
            f'<td class="num" data-installed="{done}" data-planned="{planned}">{done:,}/{planned:,}</td>'
            f"{_number_cell('planned_cny', planned_cny)}{_number_cell('installed_cny', installed_cny)}</tr>"
        )

    body = [
        row(
            names_of_districts.get(str(code), str(code)),
            int(done),
            int(planned),
            planned_cny,
            installed_cny,
            f' data-district="{_e(code)}"',
        )
        for code, done, planned, planned_cny, installed_cny in zip(
            installed["district_code"].astype(str),
            installed["installed_sets"],
            installed["planned_sets"],
            installed["planned_cny"],
            installed["installed_cny"],
            strict=True,
        )
    ]
    if len(installed) > 1:
        body.append(
            row(
                word("total"),
                int(installed["installed_sets"].sum()),
                int(installed["planned_sets"].sum()),
                installed["planned_cny"].sum(),
                installed["installed_cny"].sum(),
                ' class="total"',
            )
        )
    return f'<table class="progress"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _inspection_table(inspections: pd.DataFrame, names_of_districts: dict, lang: str, word) -> str:
    """The inspection record: date, community, district, condition (in words), findings, how many photos."""
    keys = ("inspected_on", "community", "district", "condition", "findings", "photos")
    head = "".join(
        f"<th{_num_class('photos' if k == 'photos' else 'name')}>{_e(word('results_' + k))}</th>" for k in keys
    )
    names = inspections["name"] if "name" in inspections.columns else inspections["community_id"]
    body = []
    for on, community, district, condition, findings, photos in zip(
        inspections["inspected_on"],
        names,
        inspections["district_code"].astype(str),
        inspections["condition"],
        inspections["findings"],
        inspections["photos"],
        strict=True,
    ):
        day = pd.Timestamp(on).date()
        body.append(
            f'<tr data-condition="{_e(condition)}"><td>{_e(date_text(day, lang))}</td><td>{_e(_plain(community))}</td>'
            f"<td>{_e(names_of_districts.get(district, district))}</td>"
            f"<td>{_e(i18n.text('condition_' + str(condition), lang))}</td><td>{_e(_plain(findings))}</td>"
            f"{_number_cell('photos', photos)}</tr>"
        )
    return f'<table class="inspections"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _summary_table(plan: Plan, lang: str, word) -> str:
    head = "".join(f'<th class="num">{_e(column_label(c, lang))}</th>' for c in _SUMMARY_COLUMNS)
    rows = []
    for outcome in plan.outcomes:
        summary = outcome.summary()
        cells = "".join(_number_cell(c, summary[c]) for c in _SUMMARY_COLUMNS)
        rows.append(
            f'<tr data-program="{_e(outcome.program.key)}"><td>{_e(outcome.program.name(lang))}</td>{cells}</tr>'
        )
    if len(plan.outcomes) > 1:
        summaries = plan.summaries()
        cells = "".join(_number_cell(c, sum(s[c] for s in summaries)) for c in _SUMMARY_COLUMNS)
        rows.append(f'<tr class="total"><td>{_e(word("total"))}</td>{cells}</tr>')
    return (
        f'<table class="summary"><thead><tr><th>{_e(column_label("program_name", lang))}</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _selected_table(rows: pd.DataFrame, names_of_districts: dict, lang: str) -> str:
    """The picks of one programme; district names by code, in ``lang`` (``names_of_districts``)."""
    districts = rows["district_name"]
    if "district_code" in rows.columns:
        districts = rows["district_code"].astype(str).map(names_of_districts).fillna(districts)
    head = "".join(f"<th{_num_class(c)}>{_e(column_label(c, lang))}</th>" for c in _LIST_COLUMNS)
    body = []
    for rank, cid, name, district, gain, cost in zip(
        rows["rank"],
        rows["community_id"].astype(str),
        rows["name"],
        districts,
        rows["population_newly_served"],
        rows["cost_cny"],
    ):
        body.append(
            f'<tr data-community-id="{_e(cid)}">'
            f"{_number_cell('rank', rank)}<td>{_e(_plain(name))}</td>"
            f"<td>{_e(_plain(district))}</td>"
            f"{_number_cell('population_newly_served', gain)}{_number_cell('cost_cny', cost)}</tr>"
        )
    return f'<table class="selected"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _site_picks(rows: pd.DataFrame, community_names: dict, lang: str, word) -> list[str]:
    """The picks on public sites, one sentence each naming the site and the communities it serves, the
    land-less ones first and said so: 在X公园（公园）新建 1 套，服务A、B（无建设用地），以及C。"""
    if "candidate_kind" not in rows.columns:
        return []
    sites = rows[rows["candidate_kind"].astype("string").fillna("community") == "site"]
    if not len(sites):
        return []
    separator = word("list_separator")
    kinds_said = i18n.labels("message", lang)  # the kinds' words (site_kind_park …) as the import reads them
    kinds = sites["site_kind"] if "site_kind" in sites.columns else pd.Series(None, index=sites.index, dtype=object)
    landless = sites["landless_served"] if "landless_served" in sites.columns else pd.Series("", index=sites.index)
    items = []
    for site_id, name, kind, served, without_land in zip(
        sites["community_id"].astype(str), sites["name"], kinds, sites["served_communities"], landless
    ):
        served_ids = [c for c in str("" if pd.isna(served) else served).split(";") if c]
        landless_ids = {c for c in str("" if pd.isna(without_land) else without_land).split(";") if c}
        first = [_plain(community_names.get(c, c)) for c in served_ids if c in landless_ids]
        others = [_plain(community_names.get(c, c)) for c in served_ids if c not in landless_ids]
        said_landless = word("site_pick_landless", names=separator.join(first)) if first else ""
        said_others = separator.join(others)
        communities = (
            word("site_pick_and", landless=said_landless, others=said_others)
            if first and others
            else said_landless or said_others
        )
        kind_word = (
            kinds_said.get(f"site_kind_{kind}", _plain(kind))
            if isinstance(kind, str)
            else kinds_said["site_kind_other"]
        )
        sentence = word("site_pick", site=_plain(name), kind=kind_word, communities=communities)
        items.append(f'<li data-site-id="{_e(site_id)}">{_e(sentence)}</li>')
    return [
        f'<p class="site-picks">{_e(word("site_picks", count=_number(len(sites))))}</p>',
        f'<ul class="site-picks">{"".join(items)}</ul>',
    ]


def _parameters_table(parameters: dict, plan: Plan, lang: str, word) -> str:
    program_names = {o.program.key: o.program.name(lang) for o in plan.outcomes}
    body = []
    for key, value in flattened(parameters):
        if key == "data_file" and value:
            value = Path(str(value)).name
        shown = _parameter_value(key, value, program_names, lang, word)
        body.append(
            f"<tr><td>{_e(_parameter_label(key, program_names, lang))}</td>"
            f"<td><code>{_e(key)}</code></td><td>{_e(shown)}</td></tr>"
        )
    return (
        f'<table class="parameters"><thead><tr><th>{_e(word("parameter"))}</th>'
        f"<th>{_e(word('key'))}</th><th>{_e(word('value'))}</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _parameter_label(key: str, program_names: dict, lang: str) -> str:
    labels = i18n.labels("parameter", lang)
    head, _, rest = key.partition(".")
    if head in labels and not rest:
        return labels[head]
    if head == "priority_weights" and rest:
        component = column_label(f"c_{rest}", lang)  # the weight's score component
        shown = rest if component == f"c_{rest}" else component
        return f"{labels[head]} · {shown}"
    if head == "program" and rest:
        program, _, field = rest.partition(".")
        name = program_names.get(program, program)
        field, _, district = field.partition(".")  # district_min_sets.450226: a district's limit
        label = labels[field] if field in labels else column_label(field, lang)
        return " · ".join(part for part in (name, label, district) if part)
    return key


# Amounts, lengths, areas and counts are written with thousands separators; years, seeds and codes are not.
_GROUPED_ENDINGS = ("_cny", "_m", "_m2", "sets", "population_newly_served")


def _parameter_value(key: str, value, program_names: dict, lang: str, word) -> str:
    """``value`` of parameter ``key`` in words: programme names, the mode's name, a status in words."""
    last = key.rpartition(".")[2]
    if isinstance(value, str) and value and key not in ("programs_run", "data_file"):
        # Codes in words as the exports say them (the standard, a stop reason, the open-space rule …).
        return str(parameter_value(key, value, lang, program_names)[0])
    if last in ("optimal_mip_rel_gap", "optimality_gap") and isinstance(value, (int, float)) and value is not None:
        return f"{float(value):.4%}"
    if key == "mode" and value in ("rank", "optimal"):
        return i18n.label("export", f"mode_{value}", lang)
    if key == "service_standard" and value in STANDARDS:
        return i18n.label("export", f"standard_{value}", lang)
    if key == "programs_run" and isinstance(value, str):
        keys = [k for k in value.split(",") if k]
        return word("list_separator").join(program_names.get(k, k) for k in keys) or "—"
    if last == "status" and isinstance(value, str):
        status_key = "status_" + "_".join("".join(c if c.isalnum() else " " for c in value).split())
        known = i18n.labels("notice", lang)
        return known.get(status_key, value)
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if number and math.isfinite(value) and float(value).is_integer() and last.endswith(_GROUPED_ENDINGS):
        return f"{int(value):,}"
    return _value_text(value, word)


def _value_text(value, word) -> str:
    if isinstance(value, (bool, np.bool_)):
        return word("yes") if value else word("no")
    if value is None or (isinstance(value, dict) and not value) or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "—"
        # Whole amounts in full (5000000, not 5e+06); fractions with their significant digits.
        return f"{int(value)}" if float(value).is_integer() else f"{float(value):.6g}"
    return str(value)


def _num_class(column: str) -> str:
    return ' class="num"' if column not in ("name", "district_name") else ""


def _number_cell(column: str, value) -> str:
    """A right-aligned cell: ``value`` with thousands separators, the raw value in data-value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f'<td class="num" data-key="{column}" data-value="">—</td>'
    number = float(value)
    shown = f"{number:,.0f}" if number == round(number) else f"{number:,.2f}"
    raw = str(int(number)) if number == round(number) else repr(number)
    return f'<td class="num" data-key="{column}" data-value="{raw}">{shown}</td>'


def _number(value) -> str:
    number = float(value)
    return f"{number:,.0f}" if number == round(number) else f"{number:,.1f}"


def _plain(value) -> str:
    return "—" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _srcdoc(document: str) -> str:
    """``document`` as the value of a single-quoted ``srcdoc`` attribute.

    Only ``&`` and ``'`` need escaping there; the map's JSON holds ~140,000 double quotes, so
    a double-quoted attribute would grow the page by ~0.7 MB.
    """
    return document.replace("&", "&amp;").replace("'", "&#39;")


def _e(text) -> str:
    return html.escape(str(text), quote=True)
