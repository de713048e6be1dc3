"""The /stats chart: questions, abstentions, escalations and votes per day, drawn as a PNG."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.store.tables import DayStats, Stats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 10, 7, 100  # 1000 x 700 pixels
# Legends above their panel, where they hide no bar.
LEGEND_ABOVE = {"loc": "lower left", "bbox_to_anchor": (0, 1), "fontsize": 8, "frameon": False}
SERIES_KEY = "Series"  # the PNG text chunk that carries the plotted numbers
COLOURS = {
    "answered": "#4c9a5f",
    "abstained": "#d9a441",
    "escalated": "#c2504a",
    "rate": "#3b5b92",
    "helpful": "#4c9a5f",
    "unhelpful": "#c2504a",
}


@dataclass(frozen=True, kw_only=True)
class Series:
    """What the chart plots, one value per day, oldest first, days without activity as 0."""

    days: list[date]
    answered: list[int]
    abstained: list[int]
    escalated: list[int]
    helpful: list[int]
    unhelpful: list[int]

    @property
    def abstention_rate(self) -> list[float]:
        """Abstained over questions, in percent; NaN (a gap in the line) with no question."""
        return [
            100 * abstained / (answered + abstained) if answered + abstained else math.nan
            for answered, abstained in zip(self.answered, self.abstained, strict=True)
        ]


def series(stats: Stats, days: int, today: date) -> Series:
    """The `days` days ending with `today`, each with its figures from `stats`."""
    axis = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    by_day = {day.day: day for day in stats.days}
    found = [by_day.get(day) or _quiet(day) for day in axis]
    return Series(
        days=axis,
        answered=[day.answered for day in found],
        abstained=[day.abstained for day in found],
        escalated=[day.escalated for day in found],
        helpful=[day.helpful for day in found],
        unhelpful=[day.unhelpful for day in found],
    )


def _quiet(day: date) -> DayStats:
    return DayStats(day=day, questions=0, abstained=0, escalated=0, helpful=0, unhelpful=0)


def render(stats: Stats, days: int, today: date) -> bytes:
    """The chart as PNG bytes; CPU work, to run in a thread. The plotted numbers travel in
    the PNG's SERIES_KEY text chunk, so what the image shows can be checked against the text."""
    plotted = series(stats, days, today)
    figure = draw(plotted)
    png = io.BytesIO()
    try:
        figure.savefig(png, format="png", metadata={SERIES_KEY: _numbers(plotted)})
    finally:
        figure.clear()
    return png.getvalue()


def draw(plotted: Series) -> Figure:
    """Two panels over the days: questions stacked as answered and abstained, escalations
    beside them, the abstention rate on a second axis; thumbs up and down side by side below."""
    # Imported here: matplotlib takes a while to load and only /stats needs it. A Figure with
    # its own Agg canvas, not pyplot: no display, no global list of figures to leak into, and
    # safe beside other threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = len(plotted.days)
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    questions, votes = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    positions = list(range(days))

    # Questions stacked as answered and abstained; escalations (a subset of the questions, a
    # learner asking a person) beside them, not on top, so the stack is the day's questions.
    width = 0.4
    asked = [p - width / 2 for p in positions]
    questions.bar(asked, plotted.answered, width, color=COLOURS["answered"], label="answered")
    questions.bar(
        asked,
        plotted.abstained,
        width,
        bottom=plotted.answered,
        color=COLOURS["abstained"],
        label="abstained",
    )
    beside = [p + width / 2 for p in positions]
    questions.bar(beside, plotted.escalated, width, color=COLOURS["escalated"], label="escalated")
    questions.set_ylabel("questions; escalations beside")
    figure.suptitle(f"Last {days} days, to {plotted.days[-1].isoformat()} (UTC)")
    rate = questions.twinx()
    rate.plot(
        positions,
        plotted.abstention_rate,
        color=COLOURS["rate"],
        marker="o",
        markersize=3,
        label="abstention rate",
    )
    rate.set_ylim(0, 105)
    rate.set_ylabel("abstention rate (%)")
    handles, labels = questions.get_legend_handles_labels()
    more_handles, more_labels = rate.get_legend_handles_labels()
    questions.legend(handles + more_handles, labels + more_labels, **LEGEND_ABOVE, ncols=4)

    for name, shift, label in (("helpful", -1, "thumbs up"), ("unhelpful", 1, "thumbs down")):
        moved = [p + shift * width / 2 for p in positions]
        votes.bar(moved, getattr(plotted, name), width, color=COLOURS[name], label=label)
    votes.set_ylabel("votes")
    votes.legend(**LEGEND_ABOVE, ncols=2)
    for axes in (questions, votes):
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylim(0, max(axes.get_ylim()[1], 1))  # a quiet month still has a 0-1 scale
    # Every third day named, counted back from today so that today always is.
    ticks = positions[::-1][::3][::-1]
    votes.set_xticks(ticks, [plotted.days[p].strftime("%m-%d") for p in ticks], rotation=45)
    votes.set_xlim(-0.6, days - 0.4)
    return figure


def _numbers(plotted: Series) -> str:
    return json.dumps(
        {
            "days": [day.isoformat() for day in plotted.days],
            "answered": plotted.answered,
            "abstained": plotted.abstained,
            "escalated": plotted.escalated,
            "helpful": plotted.helpful,
            "unhelpful": plotted.unhelpful,
        }
    )
