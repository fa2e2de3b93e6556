"""The Telegram channel (aiogram). aiogram is imported here first, its types built on first use
(bot/telegram/lazy_aiogram.py): a restart answers sooner."""

from bot.telegram.lazy_aiogram import import_aiogram

import_aiogram()
