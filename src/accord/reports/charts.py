"""Charts of the progress report, drawn by matplotlib as SVG (vector in both the HTML and the PDF), their words in the
language of the work at hand."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import cache, wraps
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any, ParamSpec

from accord.i18n import _, current_language
from accord.reports.forms import format_chart_day
from accord.reports.labels import incident_kind_label, message_kind_label, priority_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_KIND_COLOURS = {
    "request": "#1f5f8b",
    "share": "#6aa84f",
    "alert": "#cc4125",
    "pen": "#8e7cc3",
    "incident": "#b45f06",
}
_PARTY_COLOURS = ("#1f5f8b", "#e69138")
# The report's own fonts (its stylesheet names the same), DejaVu Sans (matplotlib's own) where they are not installed.
_FONTS = {"Noto Sans": "NotoSans-Regular.", "Noto Sans Devanagari": "NotoSansDevanagari-Regular."}
_STYLE: dict[Any, Any] = {
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Text drawn as outlines, shaped by matplotlib (HarfBuzz): WeasyPrint lays out an SVG's text a character at a
    # time, which breaks Devanagari's conjuncts and vowel signs apart.
    "svg.fonttype": "path",
    "svg.hashsalt": "accord",  # the same data draws the same file
}


@cache
def chart_style() -> dict[Any, Any]:
    """The style with its fonts. The SVG names them all, so the HTML and the PDF pick each glyph's font (Devanagari
    from Noto Sans Devanagari). matplotlib's list of fonts may predate their installation: it learns them here."""
    # matplotlib (with numpy, PIL, fontTools) loads in ~0.8 s: only a report or a chart page draws, so each chart
    # imports it, and the first one's style selects the backend.
    import matplotlib
    from matplotlib import font_manager

    matplotlib.use("Agg")  # no display: charts are files
    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known >= _FONTS.keys():
        for path in font_manager.findSystemFonts():
            if Path(path).name.startswith(tuple(_FONTS.values())):
                font_manager.fontManager.addfont(path)
        known = {font.name for font in font_manager.fontManager.ttflist}
    return _STYLE | {"font.family": [*(name for name in _FONTS if name in known), "DejaVu Sans"]}


Drawing = ParamSpec("Drawing")
_DRAWN: OrderedDict[bytes, str] = OrderedDict()  # the charts last drawn, by what they were drawn from
_DRAWN_KEPT = 96  # six reports' charts (16 each), a few megabytes
_drawn_lock = Lock()


def _remembered(draw: Callable[Drawing, str]) -> Callable[Drawing, str]:
    """A chart is a function of its data, its title and the language of its words: a report printed again (as HTML,
    then as PDF; in a second language beside the first) is drawn once (0.1–0.4 s a chart)."""

    @wraps(draw)
    def drawn(*args: Drawing.args, **kwargs: Drawing.kwargs) -> str:
        described = [draw.__name__, current_language().value, args, kwargs]
        key = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).digest()
        with _drawn_lock:
            if (uri := _DRAWN.get(key)) is not None:
                _DRAWN.move_to_end(key)
                return uri
        uri = draw(*args, **kwargs)
        with _drawn_lock:
            _DRAWN[key] = uri
            while len(_DRAWN) > _DRAWN_KEPT:
                _DRAWN.popitem(last=False)
        return uri

    return drawn


def forget_drawn_charts() -> None:
    """Draw every chart again from now on (a benchmark's each run measures the drawing)."""
    with _drawn_lock:
        _DRAWN.clear()


def _data_uri(figure: Figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@_remembered
def weekly_volume_chart(weeks: Sequence[dict[str, Any]], title: str) -> str:
    """Opening messages per week (labelled by the Monday it starts on), stacked by kind."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(6.4, 2.2))
        labels = [format_chart_day(w["week"]) for w in weeks]
        bottom = [0] * len(weeks)
        for kind, colour in _KIND_COLOURS.items():
            values = [w.get(kind, 0) for w in weeks]
            axes.bar(labels, values, bottom=bottom, color=colour, label=message_kind_label(kind), width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_title(title, loc="left", fontsize=9)
        axes.set_ylabel(_("messages per week"))
        axes.tick_params(axis="x", labelrotation=60, labelsize=7)
        axes.set_ylim(0, max([*bottom, 1]) * 1.3)
        axes.legend(frameon=False, ncols=4, fontsize=7, loc="upper left")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _data_uri(figure)


@_remembered
def response_time_chart(samples: Mapping[str, Sequence[float]], title: str) -> str:
    """Distribution of hours to first response per priority (box: quartiles; whiskers: 5th–95th percentile)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(3.1, 2.2))
        labels = [name for name, values in samples.items() if values]
        if labels:
            axes.boxplot(
                [samples[name] for name in labels],
                tick_labels=[priority_label(name) for name in labels],
                whis=(5, 95),
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": "#cfe2f3"},
                medianprops={"color": "#1f5f8b"},
            )
            axes.set_yscale("log")
        else:
            axes.text(0.5, 0.5, _("no responses in the period"), ha="center", va="center", transform=axes.transAxes)
            axes.set_xticks([])
        axes.set_title(title, loc="left", fontsize=9)
        axes.set_ylabel(_("hours to first response"))
        return _data_uri(figure)


@_remembered
def within_target_chart(shares: Mapping[str, Sequence[float | None]], parties: Sequence[str], title: str) -> str:
    """Share of requests answered within target, per priority, one bar per sending party."""
    import matplotlib.pyplot as plt

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(3.1, 2.2))
        priorities = list(shares)
        width = 0.8 / max(1, len(parties))
        for offset, party in enumerate(parties):
            values = [shares[p][offset] for p in priorities]
            positions = [i + offset * width for i in range(len(priorities))]
            axes.bar(
                positions,
                [100 * v if v is not None else 0 for v in values],
                width=width,
                color=_PARTY_COLOURS[offset % len(_PARTY_COLOURS)],
                label=_("asked by {party}").format(party=party),
            )
        axes.set_xticks(
            [i + width * (len(parties) - 1) / 2 for i in range(len(priorities))],
            [priority_label(p) for p in priorities],
        )
        axes.set_ylim(0, 125)
        axes.set_yticks([0, 25, 50, 75, 100])
        axes.set_ylabel(_("% within target"))
        axes.set_title(title, loc="left", fontsize=9)
        axes.legend(frameon=False, fontsize=7, loc="upper center", ncols=2)
        return _data_uri(figure)


@_remembered
def overview_chart(counts: Mapping[str, Sequence[int]], parties: Sequence[str], title: str) -> str:
    """Requests per focus area, one bar per sending party."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(6.4, 2.2))
        areas = list(counts)
        width = 0.8 / max(1, len(parties))
        for offset, party in enumerate(parties):
            axes.bar(
                [i + offset * width for i in range(len(areas))],
                [counts[a][offset] for a in areas],
                width=width,
                color=_PARTY_COLOURS[offset % len(_PARTY_COLOURS)],
                label=_("sent by {party}").format(party=party),
            )
        axes.set_xticks([i + width * (len(parties) - 1) / 2 for i in range(len(areas))], areas)
        axes.set_ylabel(_("requests"))
        axes.set_ylim(0, max([*(max(v) for v in counts.values()), 1]) * 1.25)
        axes.set_title(title, loc="left", fontsize=9)
        axes.legend(frameon=False, fontsize=7, loc="upper right", ncols=2)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _data_uri(figure)


_OUTCOME_COLOURS = {"held": "#e69138", "approved": "#6aa84f", "refused": "#b00020"}


@_remembered
def disclosure_chart(rows: Sequence[dict[str, Any]], labels: Mapping[str, str], title: str) -> str:
    """Held, approved and refused disclosures per rule family (rows as the report has them), one bar per outcome;
    `labels` names each outcome in the language of the work at hand."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(6.4, 2.2))
        width = 0.8 / len(_OUTCOME_COLOURS)
        for offset, (outcome, colour) in enumerate(_OUTCOME_COLOURS.items()):
            axes.bar(
                [i + offset * width for i in range(len(rows))],
                [row[outcome] for row in rows],
                width=width,
                color=colour,
                label=labels[outcome],
            )
        axes.set_xticks([i + width for i in range(len(rows))], [row["family"] for row in rows])
        axes.set_ylabel(_("disclosures"))
        axes.set_ylim(0, max([*(row[o] for row in rows for o in _OUTCOME_COLOURS), 1]) * 1.25)
        axes.set_title(title, loc="left", fontsize=9)
        axes.legend(frameon=False, fontsize=7, loc="upper right", ncols=3)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _data_uri(figure)


# The incident map's marker colours (accord/web/static/precursors.css) are the same, so one legend reads for both.
INCIDENT_COLOURS = {
    "seizure": "#b00020",
    "stopped_shipment": "#1f5f8b",
    "diversion": "#e69138",
    "suspicious_order": "#6a3d9a",
}


@_remembered
def incident_timeline_chart(months: Sequence[str], counts: Mapping[str, Sequence[int]], title: str) -> str:
    """Incidents per month (months as YYYY-MM, in order), stacked by kind."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    with plt.rc_context(chart_style()):
        figure, axes = plt.subplots(figsize=(6.4, 2.2))
        bottom = [0] * len(months)
        if months:
            for kind, values in counts.items():
                colour = INCIDENT_COLOURS.get(kind, "#5b6975")
                axes.bar(list(months), values, bottom=bottom, color=colour, label=incident_kind_label(kind), width=0.8)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            axes.legend(frameon=False, ncols=4, fontsize=7, loc="upper left")
            axes.tick_params(axis="x", labelrotation=60 if len(months) > 8 else 0, labelsize=7)
        else:
            axes.text(0.5, 0.5, _("no incidents match"), ha="center", va="center", transform=axes.transAxes)
            axes.set_xticks([])
        axes.set_title(title, loc="left", fontsize=9)
        axes.set_ylabel(_("incidents per month"))
        axes.set_ylim(0, max([*bottom, 1]) * 1.35)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _data_uri(figure)
