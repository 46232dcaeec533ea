"""One self-contained HTML page: inline CSS, charts as inline SVG, no scripts.

Nothing on the page is fetched: no fonts, stylesheets or scripts from elsewhere, so the
file opens offline, can be mailed or attached to a CI run, and looks the same in a
year. Each chart's SVG ids get a prefix from its content, so the ids of one chart never
resolve to another chart's clip paths or markers.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from simrec.report.plots import Chart

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --pass: #1a7f37; --fail: #cf222e;
        --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", "Helvetica Neue", Arial,
       "Liberation Sans", sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 6px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 2px; }
p { margin: 6px 0; }
.muted, figcaption p { color: var(--muted); }
.lead { color: var(--muted); max-width: 80ch; }
nav { margin: 14px 0 0; font-size: 14px; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
.verdict { display: inline-block; margin: 14px 0 0; padding: 6px 12px; border-radius: 6px;
           font-weight: 600; }
.verdict.pass { background: #dafbe1; color: var(--pass); }
.verdict.fail { background: #ffebe9; color: var(--fail); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px;
        margin-top: 14px; }
figure { margin: 0; padding: 14px 16px 10px; border: 1px solid var(--line); border-radius: 8px;
         background: #fff; }
figure.wide { grid-column: 1 / -1; }
figure svg { display: block; width: 100%; height: auto; margin-top: 8px; }
figure:not(.wide) svg { max-width: 760px; }
figcaption p { margin: 0; font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td code, p code { font-size: 13px; background: var(--bg-soft); padding: 1px 4px; border-radius: 4px; }
.badge { display: inline-block; min-width: 52px; text-align: center; padding: 1px 8px;
         border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.badge.gamed { background: #bc4c00; }
details { margin: 10px 0; }
summary { cursor: pointer; color: #0969da; }
pre { background: var(--bg-soft); padding: 10px 12px; border-radius: 6px; overflow-x: auto;
      font-size: 13px; }
.note { padding: 8px 12px; border-left: 3px solid var(--line); background: var(--bg-soft);
        color: var(--muted); margin: 12px 0; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr));
          gap: 14px; margin-top: 14px; }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 8px; }
.panel h3 { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 14px; }
.panel .refs { font-size: 12px; color: var(--muted); }
.bar-row { display: grid; grid-template-columns: 118px 1fr 150px; align-items: center;
           gap: 8px; height: 22px; font-size: 13px; }
.bar-row .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar-row .value { font-variant-numeric: tabular-nums; white-space: nowrap; color: #333; }
.bar-row .value small { color: var(--muted); }
.track { position: relative; height: 16px; }
.track .bar { position: absolute; top: 2px; bottom: 2px; opacity: 0.9; }
.track .zero { position: absolute; top: -3px; bottom: -3px; border-left: 1px solid #999; }
.track .ref { position: absolute; top: -3px; bottom: -3px; border-left: 1.5px dashed #444; }
.track .whisker { position: absolute; top: 3px; bottom: 3px; border-left: 1.5px solid #222;
                  border-right: 1.5px solid #222;
                  background: linear-gradient(#222, #222) center / 100% 1.5px no-repeat; }
.track .na { position: absolute; left: 4px; top: 0; font-size: 12px; color: var(--muted); }
.scale { position: relative; height: 16px; font-size: 11px; color: var(--muted); }
.scale span { position: absolute; top: 0; white-space: nowrap; }
.columns { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: flex-start; }
.columns h3 { margin-top: 14px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 10px 0 0; font-size: 13px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { display: inline; width: 26px; margin: 0; }
footer { margin-top: 48px; color: var(--muted); font-size: 13px; }
"""


def escape(text: object) -> str:
    """``text`` made safe for HTML."""
    return html.escape(str(text), quote=True)


@dataclass
class Section:
    """A titled part of the page with an anchor in the navigation."""

    anchor: str
    title: str
    blocks: list[str] = field(default_factory=list)

    def text(self, content: str, css: str = "") -> Section:
        """A paragraph of plain text (escaped)."""
        klass = f' class="{css}"' if css else ""
        self.blocks.append(f"<p{klass}>{escape(content)}</p>")
        return self

    def note(self, content: str) -> Section:
        """A muted remark (e.g. why a chart is missing)."""
        self.blocks.append(f'<div class="note">{escape(content)}</div>')
        return self

    def html(self, content: str) -> Section:
        """Raw HTML the caller built from escaped parts."""
        self.blocks.append(content)
        return self

    def charts(self, charts: Iterable[Chart], wide: bool = False) -> Section:
        """Charts in a responsive grid (``wide``: each takes the full width)."""
        figures = "".join(figure(c, wide) for c in charts)
        if figures:
            self.blocks.append(f'<div class="grid">{figures}</div>')
        return self

    def render(self) -> str:
        body = "".join(self.blocks)
        return f'<section id="{escape(self.anchor)}"><h2>{escape(self.title)}</h2>{body}</section>'


def figure(chart: Chart, wide: bool = False) -> str:
    """A chart as a captioned ``<figure>`` holding its SVG inline."""
    caption = f"<p>{escape(chart.caption)}</p>" if chart.caption else ""
    klass = ' class="plot wide"' if wide else ' class="plot"'
    return (
        f"<figure{klass}><figcaption><h3>{escape(chart.title)}</h3>{caption}</figcaption>"
        f"{inline_svg(chart.svg, chart.alt or chart.title)}</figure>"
    )


def inline_svg(svg: str, label: str) -> str:
    """``svg`` ready to sit in the page: ids made unique, labelled for screen readers."""
    prefix = "c" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = svg.replace("url(#", f"url(#{prefix}").replace('href="#', f'href="#{prefix}')
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def legend(entries: Sequence[tuple[str, str, bool, bool]]) -> str:
    """A legend for many charts at once: ``(label, colour, dashed, faint)`` per line."""
    items = []
    for label, color, dashed, faint in entries:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        dash += ' stroke-opacity="0.55"' if faint else ""
        items.append(
            f'<span><svg width="26" height="10" aria-hidden="true"><line x1="1" y1="5" x2="25" '
            f'y2="5" stroke="{escape(color)}" stroke-width="2.5"{dash}/></svg>{escape(label)}</span>'
        )
    return f'<div class="legend">{"".join(items)}</div>'


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[bool] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    numeric = list(numeric) if numeric is not None else [False] * len(header)

    def cell(tag: str, value: str, k: int) -> str:
        klass = ' class="num"' if numeric[k] else ""
        return f"<{tag}{klass}>{value if raw and tag == 'td' else escape(value)}</{tag}>"

    head = "".join(cell("th", h, k) for k, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", v, k) for k, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definition_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of names and values."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def columns(parts: Iterable[tuple[str, str]]) -> str:
    """Titled blocks (``(title, html)``) side by side, wrapping on narrow screens."""
    blocks = "".join(f"<div><h3>{escape(title)}</h3>{body}</div>" for title, body in parts)
    return f'<div class="columns">{blocks}</div>'


def page(
    title: str, lead: Sequence[str], sections: Sequence[Section], header_html: str = ""
) -> str:
    """The whole HTML document."""
    from simrec import __version__

    nav = "".join(
        f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in sections if s.blocks
    )
    intro = "".join(f'<p class="lead">{escape(line)}</p>' for line in lead if line)
    body = "".join(s.render() for s in sections if s.blocks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main><header><h1>{escape(title)}</h1>{intro}{header_html}"
        f"<nav>{nav}</nav></header>{body}"
        f"<footer>Made by simrec {escape(__version__)} (<code>simrec report</code>). "
        "Self-contained: opens without a network.</footer></main></body></html>\n"
    )
