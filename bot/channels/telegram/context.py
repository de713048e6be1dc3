"""What every Telegram handler is given: the services, through a typed callback context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from bot.channels.health import Status, core_status
from bot.services.core import Core


@dataclass(frozen=True)
class Services:
    """What the handlers use, kept in `application.bot_data["services"]`."""

    core: Core
    # The bot's own Telegram id: update ids are counted per bot, so claims are too.
    bot_id: int
    # When this process began long polling. Telegram lets one process poll a bot at a time, so
    # an unfinished claim from before then was left by a process that is gone. None in webhook
    # mode, where replicas run side by side.
    polling_since: datetime | None = None


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context of this bot's handlers (registered with `ContextTypes`)."""

    @property
    def services(self) -> Services:
        found: Services = self.bot_data["services"]
        return found


# The application built with this context; its other type parameters are the library's.
BotApplication = Application[Any, Context, Any, Any, Any, Any]


def core_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Core | None:
    """The application's core once `start_services` opened it (None before)."""
    found: Services | None = app.bot_data.get("services")
    return found.core if found is not None else None


def health_status(app: Application[Any, Any, Any, Any, Any, Any]) -> Status:
    """What /healthz reports for this bot: ready while it runs with its core able to answer."""

    async def status() -> tuple[bool, dict[str, object]]:
        return await core_status(core_of(app), running=app.running)

    return status


class NotForHandlerError(Exception):
    """An update reached a handler whose filter should have kept it away (a bug)."""


@dataclass(frozen=True)
class Incoming:
    """A message update as the handlers use it: their filters guarantee all three parts."""

    message: Message
    user: User
    chat: Chat

    @classmethod
    def of(cls, update: Update) -> Incoming:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            raise NotForHandlerError(f"update {update.update_id} has no message, user or chat")
        return cls(message, user, chat)

    @property
    def private(self) -> bool:
        return self.chat.type == ChatType.PRIVATE


@dataclass(frozen=True)
class Press:
    """A button press: the query, and the chat its message is in (the presser's private chat
    when Telegram leaves the message out, as it does for very old ones)."""

    query: CallbackQuery
    data: str
    chat_id: int
    private: bool

    @classmethod
    def of(cls, update: Update) -> Press:
        query = update.callback_query
        if query is None:
            raise NotForHandlerError(f"update {update.update_id} is no button press")
        chat = update.effective_chat
        return cls(
            query=query,
            data=query.data or "",
            chat_id=chat.id if chat is not None else query.from_user.id,
            private=chat is not None and chat.type == ChatType.PRIVATE,
        )

    async def edit(self, html: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Replace the pressed message (and its buttons) with `html`; a new message when it is
        too old to edit."""
        message = self.query.message
        if isinstance(message, Message):
            try:
                await message.edit_text(html, parse_mode=ParseMode.HTML, reply_markup=keyboard)
                return
            except BadRequest:
                pass
        await self.query.get_bot().send_message(
            self.chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )


def user_language(update: Update) -> str:
    """The language of the user's Telegram client: Chinese or English (English for none)."""
    return client_language(update.effective_user)


def client_language(user: User | None) -> str:
    code = user.language_code if user is not None else None
    return "zh" if (code or "").lower().startswith("zh") else "en"
