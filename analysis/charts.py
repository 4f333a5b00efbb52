"""Charts of a summary, as matplotlib ``Figure`` objects (never ``pyplot``).

``pyplot`` keeps every figure in a global registry until it is closed, which leaks memory in a
web server; a bare ``Figure`` is freed with its last reference and renders through the Agg
canvas that ``savefig`` picks from the file format. DejaVu Sans, matplotlib's default font,
has every Vietnamese letter. The figures are 6.4 inches wide, about 700 px at the default
110 dpi of :func:`figure_to_png`.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not with the web worker
    from matplotlib.figure import Figure

from .formatting import number, percent

WIDTH_IN = 6.4
NO_DATA = "không đủ dữ liệu"
COLOUR = "#1f5f9e"
COLOUR_INTERVAL = "#9bb8d6"
COLOUR_TARGET = "#444444"
COLOUR_MUTED = "#6b6b6b"
LABEL_WIDTH = 30  # characters per line of a group label; keeps the bars wide enough at 700 px


def _value_text(value: float, index: str) -> str:
    return percent(value) if index == "sipas" else number(value, 2)


def _tick_text(value: float, _pos: float | None = None) -> str:
    return number(value, 0 if float(value).is_integer() else 1)


def group_bar_chart(summary: Mapping[str, Any], target: float | None = None,
                    title: str = "Kết quả theo từng yếu tố") -> Figure:
    """Draw each group's value as a horizontal bar, with its n, value label and the target.

    SIPAS values are percentages (axis 0–100); PAPI-style dimension values lie in 1–10. A group
    without a value gets no bar but the words "không đủ dữ liệu", so it is not read as zero.
    ``target`` is drawn as a dashed line on the bars' scale. Bars are not coloured by the
    target: a group's value has no interval of its own, and a colour would claim a certainty
    that a small sample does not give (the index's verdict, with its interval, says it).
    """
    index = str(summary["questionnaire"]["index"])
    groups = list(summary["groups"])
    top = 100.0 if index == "sipas" else 10.0
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 1.5 + 0.62 * max(len(groups), 1)), layout="constrained")
    ax = fig.add_subplot()

    labels = [textwrap.fill(f"{g['label']} (n = {number(g['n'], 0)})", LABEL_WIDTH)
              for g in groups]
    positions = list(range(len(groups)))
    values = [g["value"] for g in groups]
    ax.barh(positions, [0.0 if v is None else v for v in values], height=0.6,
            color=COLOUR)
    for y, value in zip(positions, values, strict=True):
        if value is None:
            text = ax.text(top * 0.01, y, NO_DATA, va="center", ha="left", fontsize=9,
                           fontstyle="italic", color=COLOUR_MUTED)
        else:
            text = ax.text(value + top * 0.01, y, _value_text(value, index), va="center",
                           ha="left", fontsize=9)
        # Labels placed in data units must not steer the constrained layout: they move with
        # it, so every render would lay the figure out a little differently.
        text.set_in_layout(False)
    ax.set_yticks(positions, labels, fontsize=9)
    ax.invert_yaxis()  # the first group at the top, as in the questionnaire
    # Room on the right for the value label of a full bar ("100,0 %").
    ax.set_xlim(0, top * 1.25)
    ticks = [top * i / 5 for i in range(6)]
    ax.set_xticks(ticks, [_tick_text(t) for t in ticks])
    ax.set_xlabel("Tỷ lệ hài lòng (%)" if index == "sipas" else "Điểm (1–10)")
    if target is not None:
        shown = percent(target, 0) if index == "sipas" else number(target, 1)
        ax.axvline(target, color=COLOUR_TARGET, linestyle="--", linewidth=1.2,
                   label=f"Mục tiêu {shown}")
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)

    value = summary.get("index", {}).get("value")
    shown_index = NO_DATA if value is None else _value_text(value, index)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    ax.set_title(f"Chỉ số chung: {shown_index} · {number(summary.get('n_responses', 0), 0)} phiếu",
                 fontsize=9, loc="left", color=COLOUR_MUTED)
    return fig


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def period_label(period: str) -> str:
    """Return a period as people write it: ``2025-03`` → ``03/2025``, ``2025-Q1`` → ``Q1/2025``."""
    if m := _MONTH.match(period):
        return f"{m.group(2)}/{m.group(1)}"
    if m := _QUARTER.match(period):
        return f"Q{m.group(2)}/{m.group(1)}"
    return period


def trend_chart(points: Sequence[tuple[str, float | None, int]], target: float | None = None,
                title: str = "Chỉ số hài lòng theo tháng", *,
                index: Literal["sipas", "papi"] = "sipas",
                intervals: Sequence[Sequence[float] | None] | None = None) -> Figure:
    """Draw the index per period (``(period, value, n)`` in time order), with gaps for None.

    A period without a value (no data, or a suppressed small cell) breaks the line rather than
    being joined across, and its label still shows its n. ``intervals`` (one ``[low, high]``
    or None per point) are drawn as bars behind the points, so a month of few responses looks
    as uncertain as it is.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(title, fontsize=12, fontweight="bold")
    ax.set_ylabel("Tỷ lệ hài lòng (%)" if index == "sipas" else "Điểm chỉ số")
    if not points:
        ax.text(0.5, 0.5, "Chưa có dữ liệu", transform=ax.transAxes, ha="center",
                va="center", color=COLOUR_MUTED)
        ax.set_xticks([])
        ax.set_yticks([])
        return fig

    xs = list(range(len(points)))
    # NaN makes matplotlib break the line there; None would be an error.
    ys = [math.nan if v is None else v for _, v, _ in points]
    shown_cis = [(x, ci) for x, ci in zip(xs, intervals or [None] * len(points), strict=True)
                 if ci is not None and not math.isnan(ys[x])]
    if shown_cis:
        ax.vlines([x for x, _ in shown_cis], [ci[0] for _, ci in shown_cis],
                  [ci[1] for _, ci in shown_cis], color=COLOUR_INTERVAL, linewidth=6, zorder=1,
                  label="Khoảng tin cậy 95 %")
    ax.plot(xs, ys, color=COLOUR, marker="o", linewidth=2, markersize=5, zorder=2)
    for x, (_, value, _) in zip(xs, points, strict=True):
        if value is None:
            continue
        label = ax.annotate(_value_text(value, index) if index == "sipas" else number(value, 1),
                            (x, value), textcoords="offset points", xytext=(0, 7), ha="center",
                            fontsize=8)
        label.set_in_layout(False)  # as in group_bar_chart: keeps the layout stable
    # At ~700 px, a dozen labels fit; show every k-th one beyond that.
    step = max(1, math.ceil(len(points) / 12))
    ticks = xs[::step]
    ax.set_xticks(ticks, [f"{period_label(points[i][0])}\nn = {number(points[i][2], 0)}"
                          for i in ticks], fontsize=8)
    ax.set_xlim(-0.5, len(points) - 0.5)
    if index == "sipas":
        ax.set_ylim(0, 109)
        ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.yaxis.set_major_formatter(_tick_text)
    if target is not None:
        shown = percent(target, 0) if index == "sipas" else number(target, 1)
        ax.axhline(target, color=COLOUR_TARGET, linestyle="--", linewidth=1.2,
                   label=f"Mục tiêu {shown}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig


def figure_to_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render a figure to PNG bytes (Agg), e.g. for ``send_file(..., mimetype="image/png")``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_to_svg(fig: Figure) -> bytes:
    """Render a figure to SVG bytes: text kept as text, the same bytes for the same figure.

    A fixed ``svg.hashsalt`` and no date make the output reproducible (caches, tests, diffs);
    ``svg.fonttype = none`` keeps Vietnamese text searchable and the file small. The settings
    apply only inside this call.
    """
    buffer = io.BytesIO()
    from matplotlib import rc_context

    with rc_context({"svg.hashsalt": "analysis.charts", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
