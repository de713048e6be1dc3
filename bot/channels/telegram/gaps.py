"""/gaps (admins): what the documents are missing, as text and, with `/gaps csv`, a CSV file.
The grouping is `bot.services.curation.content_gaps`, which the web console shares."""

from __future__ import annotations

import html
import logging
from datetime import date

from telegram import Update

from bot.channels.telegram import curation_texts as say
from bot.channels.telegram.context import Context, Incoming, client_language
from bot.channels.telegram.curation import admin_in_private
from bot.channels.telegram.render import pack, shortened
from bot.services.curation import Gap, content_gaps, gaps_csv

log = logging.getLogger(__name__)

LISTED = 15  # gaps in the text reply; the CSV has them all


async def gaps_command(update: Update, context: Context) -> None:
    incoming, found = Incoming.of(update), context.services
    if not await admin_in_private(incoming, context):
        return
    language = client_language(incoming.user)
    days = found.core.settings.gaps_days
    gaps = await content_gaps(found.core.store, found.core.engine, days)
    log.info("admin %s asked for the content gaps: %d", incoming.user.id, len(gaps))
    if not gaps:
        await incoming.message.reply_text(say.GAPS["none"][language].format(days=days))
        return
    if [arg.lower() for arg in context.args or []] == ["csv"]:
        await incoming.message.reply_document(
            gaps_csv(gaps),
            filename=f"gaps-{date.today().isoformat()}.csv",
            caption=say.GAPS["csv"][language].format(days=days),
        )
        return
    title = say.GAPS["title"][language].format(
        days=days, gaps=len(gaps), questions=sum(gap.count for gap in gaps)
    )
    lines = [_line(rank, gap, language) for rank, gap in enumerate(gaps[:LISTED], start=1)]
    if len(gaps) > LISTED:
        lines.append(say.GAPS["more"][language].format(more=len(gaps) - LISTED))
    for part in pack([title, "\n".join(lines)]):
        await incoming.message.reply_html(part)


def _line(rank: int, gap: Gap, language: str) -> str:
    names = say.GAP_REASONS[language]
    reasons = ", ".join(f"{names[reason]} {n}" for reason, n in gap.reasons.most_common())
    covered = (
        say.GAPS["covered"][language].format(id=gap.covered_by)
        if gap.covered_by is not None
        else say.GAPS["uncovered"][language]
    )
    return say.GAPS["line"][language].format(
        rank=rank,
        count=gap.count,
        languages=" ".join(f"{lang} {n}" for lang, n in gap.languages.most_common()),
        reasons=reasons,
        example=html.escape(shortened(gap.example, 120)),
        covered=covered,
    )
