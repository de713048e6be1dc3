"""Admin commands: /reindex (ingest from the chat, with one progress message), /stats (the
last 30 days in figures and a chart) and /weblogin (a one-time link to the web console)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from html import escape

from telegram import LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.channels.telegram import texts
from bot.channels.telegram.context import Context, Incoming, Press, client_language, user_language
from bot.channels.telegram.render import pack
from bot.services import stats_chart
from bot.services.reindex import ReindexBusyError, ReindexError
from bot.store.tables import Stats
from ingest.pipeline import Summary

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0  # Telegram limits edits; a new stage is always shown
MAX_LISTED_ERRORS = 20
STATS_DAYS = 30  # /stats' text and chart


async def refuse_non_admin(incoming: Incoming, context: Context) -> bool:
    if await context.services.core.roles.is_admin(incoming.user.id):
        return False
    log.warning("user %s tried an admin command", incoming.user.id)
    await incoming.message.reply_text(texts.ADMINS_ONLY[client_language(incoming.user)])
    return True


async def admin_press(
    update: Update, context: Context, pattern: re.Pattern[str]
) -> tuple[Press, str, int] | None:
    """A button of an admin command, pressed by an admin in their private chat: the press, its
    action and its number; None (the press answered as expired) for anything else."""
    press = Press.of(update)
    match = pattern.fullmatch(press.data)
    admin = press.query.from_user.id
    if match is None or not await context.services.core.roles.is_admin(admin) or not press.private:
        await press.query.answer(texts.EXPIRED[user_language(update)])
        return None
    return press, match.group(1), int(match.group(2))


async def weblogin(update: Update, context: Context) -> None:
    """/weblogin: a one-time link that signs the admin in to the web console."""
    incoming = Incoming.of(update)
    if await refuse_non_admin(incoming, context):
        return
    language = user_language(update)
    if not incoming.private:
        await incoming.message.reply_text(texts.PRIVATE_ONLY[language])
        return
    settings = context.services.core.settings
    minutes = settings.web_login_minutes
    token = await context.services.core.store.web.issue_login(
        incoming.user.id, timedelta(minutes=minutes)
    )
    link = f"{settings.web_public_url}/admin/login/{token}"
    log.info("admin %s was sent a console sign-in link", incoming.user.id)
    await incoming.message.reply_text(
        texts.WEBLOGIN[language].format(minutes=minutes, link=link),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def reindex(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    if await refuse_non_admin(incoming, context):
        return
    log.info("user %s started a re-index", incoming.user.id)
    await reindex_with_progress(incoming.message, context, user_language(update))


async def reindex_with_progress(message: Message, context: Context, language: str) -> None:
    """Re-index, showing its progress in one reply to `message` and then the summary."""
    reindexer = context.services.core.reindexer
    if reindexer.running:
        await message.reply_text(texts.REINDEX["busy"][language])
        return
    status = await message.reply_text(texts.REINDEX["start"][language])
    progress = _ProgressMessage(status, language)
    try:
        summary = await reindexer.run(progress.update)
    except ReindexBusyError:
        await progress.show(texts.REINDEX["busy"][language])
        return
    except ReindexError as exc:
        await progress.show(texts.REINDEX["failed"][language].format(reason=escape(str(exc))))
        return
    parts = pack(_summary_paragraphs(summary, language))
    await progress.show(parts[0])
    for part in parts[1:]:
        await message.reply_html(part)


def _summary_paragraphs(summary: Summary, language: str) -> list[str]:
    done = texts.REINDEX["done"][language].format(
        added=summary.added,
        updated=summary.updated,
        removed=summary.removed,
        unchanged=summary.unchanged,
        chunks=summary.chunks,
        version=escape(summary.index_version or "-"),
    )
    if not summary.errors:
        return [done]
    listed = [
        f"• {escape(error.path)}: {escape(error.error)}"
        for error in summary.errors[:MAX_LISTED_ERRORS]
    ]
    skipped = texts.REINDEX["skipped"][language].format(count=len(summary.errors))
    return [done, "\n".join([skipped, *listed])]


class _ProgressMessage:
    """One message edited as the run goes, at most every PROGRESS_EVERY_S within a stage."""

    def __init__(self, message: Message, language: str) -> None:
        self._message = message
        self._language = language
        self._stage = "start"
        self._shown_at = 0.0
        self._text = message.text

    async def update(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._shown_at < PROGRESS_EVERY_S:
            return
        self._stage, self._shown_at = stage, now
        await self.show(texts.REINDEX[stage][self._language].format(done=done, total=total))

    async def show(self, text: str) -> None:
        if text == self._text:
            return  # Telegram refuses an edit that changes nothing
        self._text = text
        try:
            await self._message.edit_text(text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:  # progress is a courtesy; the run goes on
            log.warning("could not update the re-index message: %s", exc)


async def stats(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    if await refuse_non_admin(incoming, context):
        return
    language = user_language(update)
    found = context.services
    today = datetime.now(UTC).date()
    figures = await found.core.store.stats(days=STATS_DAYS, today=today)
    await incoming.message.reply_html(
        _stats_text(figures, language, escape(found.core.engine.index_version or "-"))
    )
    try:
        chart = await asyncio.to_thread(stats_chart.render, figures, STATS_DAYS, today)
    except Exception:  # the figures went out as text: a chart that fails is only logged
        log.exception("could not draw the /stats chart")
        return
    caption = texts.STATS["chart"][language].format(days=STATS_DAYS)
    try:
        await incoming.message.reply_photo(chart, caption=caption)
    except TelegramError as exc:  # likewise: the admin has the figures, the chart is extra
        log.warning("could not send the /stats chart: %s", exc)


def _stats_text(figures: Stats, language: str, version: str) -> str:
    """The figures the chart draws, day by day (days with any activity), then the totals."""
    words = texts.STATS
    lines = [words["title"][language].format(days=STATS_DAYS)]
    for day in figures.days:
        line = words["day"][language].format(
            day=day.day.isoformat(),
            questions=day.questions,
            abstained=day.abstained,
            escalated=day.escalated,
        )
        if day.votes:
            line += words["votes"][language].format(
                votes=day.votes, helpful=day.helpful, unhelpful=day.unhelpful
            )
        lines.append(line)
    if not figures.days:
        lines.append(words["none"][language])
    asked = sum(day.questions for day in figures.days)
    rate = f"{sum(day.abstained for day in figures.days) / asked:.0%}" if asked else "-"
    lines.append(
        words["total"][language].format(
            rate=rate,
            helpful=figures.helpful,
            unhelpful=figures.unhelpful,
            staff=figures.staff_users,
            version=version,
        )
    )
    return "\n".join(lines)
