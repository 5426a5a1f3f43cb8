"""The dashboard's charts, drawn on the server as SVG with pygal, inlined in the page.

Readable without JavaScript and under the site's Content-Security-Policy (web/security.py:
`style-src 'self'`, `script-src 'self'`), which a browser applies to an inline SVG as to the
rest of the page. So pygal's own `<style>` and `<script>` are taken out of its tree and its
classes are given the equivalent SVG presentation attributes (`fill`, `stroke`,
`font-size`...), which no policy blocks; its comments (links to pygal.org) go too. Nothing
is fetched: no font, no stylesheet, no script. Each chart has a `<title>` and a `<desc>`
(role="img"); its numbers are in the HTML table beside it (the template's), which is what a
screen reader reads.

Labels come translated (gettext) from the caller; insurer names are text nodes, escaped by
the XML serializer, so the output is safe to inline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal

import pygal
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from pygal.style import Style

from medworks.core.money import format_money

# The site's colours (web/static/web/medworks.css): brand blue first, then the state colours.
INK = "#1d2733"
INK_SOFT = "#4a5868"
LINE = "#dde3ea"
CARD = "#ffffff"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
COLOURS = ("#1f5f8b", "#1e7a4c", "#8a5a00", "#b3261e", "#6b7785", "#174a6d")

STYLE = Style(
    background=CARD,
    plot_background=CARD,
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle=INK_SOFT,
    colors=COLOURS,
    font_family=FONT,
)

_COLOUR_CLASS = re.compile(r"^color-(\d+)$")


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _presentational(root):
    """pygal's CSS as presentation attributes; its <style>, <script> and comments removed.
    (An xml_filter: pygal calls it on its tree before serializing.)"""
    parents = {child: parent for parent in root.iter() for child in parent}

    def within(element, name: str) -> bool:
        node = parents.get(element)
        while node is not None:
            if name in _classes(node):
                return True
            node = parents.get(node)
        return False

    for parent in list(root.iter()):
        for child in list(parent):
            # Out: comments (their tag is not a string in ElementTree), style, script, and
            # pygal's <desc>s (the tooltips' coordinates and values, for its script).
            if (
                not isinstance(child.tag, str)
                or child.tag.endswith(("style", "script"))
                or child.tag.endswith("desc")
            ):
                parent.remove(child)
    root.set("font-family", FONT)
    root.set("font-size", "12")
    root.set("fill", INK)
    vertical = any("vertical" in _classes(e) for e in root.iter())
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.rsplit("}", 1)[-1]
        classes = _classes(element)
        element.attrib.pop("style", None)
        if element is not root:
            element.attrib.pop("id", None)  # "activate-serie-0" would repeat in every chart
        if "background" in classes:
            element.set("fill", CARD)
        for name in classes:
            found = _COLOUR_CLASS.match(name)
            if found:
                colour = COLOURS[int(found.group(1)) % len(COLOURS)]
                element.set("fill", colour)
                element.set("stroke", colour)
        if "reactive" in classes:
            element.set("fill-opacity", "0.85")
            element.set("stroke-width", "1")
        if "nofill" in classes:
            element.set("fill", "none")
            element.set("stroke-width", "2.5")
        if tag == "path" and within(element, "axis"):
            element.set("fill", "none")
            guide = "guide" in classes
            # Guides run along the values only (pygal hides those of the labels' axis).
            labels_axis = "x" if vertical else "y"
            hidden = guide and within(element, labels_axis) and not within(element, "always_show")
            element.set("stroke", "none" if hidden else (LINE if guide else INK_SOFT))
        if tag == "text":
            element.set("stroke", "none")
            if within(element, "axis"):
                element.set("fill", INK_SOFT)
                element.set("font-size", "11")
                horizontal_axis = within(element, "x")
                if horizontal_axis and element.get("transform") is None:
                    element.set("text-anchor", "middle")
                elif horizontal_axis:
                    element.set("text-anchor", "start")
                else:
                    element.set("text-anchor", "end")
            if within(element, "legend"):
                element.set("fill", INK)
                element.set("font-size", "12")
            if "no_data" in classes or "centered" in classes or "title" in classes:
                element.set("text-anchor", "middle")
            if "no_data" in classes:
                element.set("font-size", "16")
        if "showable" in classes or "tooltip" in classes:
            element.set("visibility", "hidden")
    return root


def _number(value) -> float | None:
    # pygal draws with floats; the exact figures (Decimal) are in the table beside the chart.
    return float(value) if value is not None else None


def money_label(value) -> str:
    """An axis or value label in dollars, in the page's language."""
    language = translation.get_language() or "en"
    return format_money(Decimal(str(round(value or 0, 2))), language)


def _render(chart, *, key: str, title: str, description: str) -> SafeString:
    chart.add_xml_filter(_presentational)
    svg = chart.render(is_unicode=True)
    # The accessible name and description (pygal writes "<title>Pygal</title>" without one).
    title_id, desc_id = f"{key}-title", f"{key}-desc"
    named = f'<title id="{title_id}">{_xml(title)}</title>'
    named += f'<desc id="{desc_id}">{_xml(description)}</desc>'
    svg = re.sub(r"<title>[^<]*</title>", lambda _match: named, svg, count=1)
    svg = svg.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}" ',
        1,
    )
    # pygal's own serialization (ElementTree escapes every text) and our escaped title.
    return mark_safe(svg)


def _xml(text: str) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _config(**extra) -> dict:
    return {
        "style": STYLE,
        "disable_xml_declaration": True,
        "js": [],  # no script: pygal's tooltips need one, the table beside says the numbers
        "width": 640,
        "height": 320,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "print_values": False,
        "no_data_text": gettext("No data"),
        "margin": 12,
        "truncate_label": -1,
        "truncate_legend": -1,
        **extra,
    }


def bar_chart(
    *,
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    horizontal: bool = False,
    formatter: Callable | None = None,
) -> SafeString:
    """A bar chart (one bar per label and series); `horizontal` for long labels."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        **_config(show_legend=len(series) > 1, x_label_rotation=0 if horizontal else 20),
        **({"value_formatter": formatter} if formatter else {}),
    )
    chart.x_labels = [str(label) for label in labels]
    for name, values in series:
        chart.add(str(name), [_number(v) for v in values])
    return _render(chart, key=key, title=title, description=description)


def line_chart(
    *,
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    formatter: Callable | None = None,
) -> SafeString:
    """A line per series over `labels` (months); a missing value (None) leaves a gap."""
    chart = pygal.Line(
        **_config(show_legend=len(series) > 1, x_label_rotation=20, allow_interruptions=True),
        **({"value_formatter": formatter} if formatter else {}),
    )
    chart.x_labels = [str(label) for label in labels]
    for name, values in series:
        chart.add(str(name), [_number(v) for v in values])
    return _render(chart, key=key, title=title, description=description)
