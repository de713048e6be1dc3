"""The /stats chart: the series it plots come from the store's figures day by day over the
whole window, the bars have those heights, and the PNG is a real image that carries them."""

import io
import json
import math
import struct
from datetime import date, timedelta

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngImageFile

from bot.services import stats_chart
from bot.store.tables import DayStats, Stats

TODAY = date(2026, 3, 31)


def _day(days_ago: int, questions: int, abstained: int, escalated: int, up: int, down: int):
    return DayStats(
        day=TODAY - timedelta(days=days_ago),
        questions=questions,
        abstained=abstained,
        escalated=escalated,
        helpful=up,
        unhelpful=down,
    )


STATS = Stats(
    days=[
        _day(0, 12, 3, 1, 4, 1),
        _day(1, 8, 0, 2, 0, 0),
        _day(6, 0, 0, 1, 2, 0),  # a ticket and votes, no question
        _day(29, 5, 5, 0, 0, 3),  # the first day of the window
        _day(30, 7, 1, 1, 1, 1),  # the day before it: not plotted
    ],
    helpful=40,
    unhelpful=9,
    staff_users=2,
)


def test_the_series_cover_every_day_with_the_figures_of_the_stats():
    plotted = stats_chart.series(STATS, 30, TODAY)
    assert plotted.days == [TODAY - timedelta(days=n) for n in range(29, -1, -1)]
    listed = {day.day: day for day in STATS.days}
    shown = 0
    for index, day in enumerate(plotted.days):
        figures = listed.get(day)
        values = (
            plotted.answered[index],
            plotted.abstained[index],
            plotted.escalated[index],
            plotted.helpful[index],
            plotted.unhelpful[index],
        )
        if figures is None:
            assert values == (0, 0, 0, 0, 0) and math.isnan(plotted.abstention_rate[index])
            continue
        shown += 1
        expected = (figures.answered, figures.abstained, figures.escalated)
        assert values == (*expected, figures.helpful, figures.unhelpful)
    assert shown == 4  # the day before the window is left out
    assert plotted.abstention_rate[-1] == 25.0 and plotted.abstention_rate[0] == 100.0
    assert math.isnan(plotted.abstention_rate[-7])  # no question that day: a gap in the line


def test_the_bars_and_the_line_are_the_series():
    plotted = stats_chart.series(STATS, 30, TODAY)
    figure = stats_chart.draw(plotted)
    questions, votes, rate = figure.axes  # in the order they were made: twinx came last
    bars = {
        container.get_label(): container for ax in (questions, votes) for container in ax.containers
    }
    assert set(bars) == {"answered", "abstained", "escalated", "thumbs up", "thumbs down"}
    for label, name in [
        ("answered", "answered"),
        ("abstained", "abstained"),
        ("escalated", "escalated"),
        ("thumbs up", "helpful"),
        ("thumbs down", "unhelpful"),
    ]:
        heights = [patch.get_height() for patch in bars[label]]
        assert heights == getattr(plotted, name), label
    assert sum(plotted.answered) + sum(plotted.helpful) > 0  # the comparison compared something
    # Stacked: abstained starts on answered; escalations (a part of the questions) stand
    # beside the stack from 0, so the stack's height is the day's questions.
    assert [patch.get_y() for patch in bars["abstained"]] == plotted.answered
    assert [patch.get_y() for patch in bars["escalated"]] == [0] * 30
    for stacked, beside in zip(bars["answered"], bars["escalated"], strict=True):
        assert beside.get_x() >= stacked.get_x() + stacked.get_width() - 1e-9
    [line] = rate.get_lines()
    drawn = np.asarray(line.get_ydata(), dtype=float).tolist()
    assert len(drawn) == 30
    for got, wanted in zip(drawn, plotted.abstention_rate, strict=True):
        assert (math.isnan(got) and math.isnan(wanted)) or got == wanted
    figure.clear()


def test_the_png_is_an_image_of_about_1000_by_700_pixels_carrying_its_numbers():
    png = stats_chart.render(STATS, 30, TODAY)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 2000 and 600 <= height <= 2000, (width, height)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel
    assert image.size == (width, height) and image.format == "PNG"
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 10  # a drawing
    carried = _carried(png)
    plotted = stats_chart.series(STATS, 30, TODAY)
    assert carried["days"] == [day.isoformat() for day in plotted.days]
    for name in ("answered", "abstained", "escalated", "helpful", "unhelpful"):
        assert carried[name] == getattr(plotted, name), name


def test_a_quiet_month_still_draws():
    png = stats_chart.render(Stats(days=[], helpful=0, unhelpful=0, staff_users=0), 30, TODAY)
    carried = _carried(png)
    assert len(carried["days"]) == 30 and set(carried["answered"]) == {0}


def _carried(png: bytes) -> dict:
    """The numbers a chart says it plots (its PNG text chunk)."""
    image = Image.open(io.BytesIO(png))
    assert isinstance(image, PngImageFile)
    return json.loads(image.text[stats_chart.SERIES_KEY])
