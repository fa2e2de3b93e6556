"""What a restart loads before its first answer (bench/restart.py times it): aiogram's Telegram
types built on first use and validating exactly as when aiogram builds them all at import, and
the document builders (python-docx, XlsxWriter, openpyxl, matplotlib), alembic and the web desk's
template engine (Jinja2) left until needed."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import made_once

# Run in a fresh interpreter: aiogram must not have been imported before bot.telegram. First
# what `kstthc-bot run` imports before it serves (both channels' modules), then every model.
STARTUP = r"""
import json, random, sys, warnings
warnings.simplefilter("ignore")  # aiogram's defaults are not JSON: the schema says so, at length
import bot.cli, bot.run
aiogram_before_telegram = "aiogram" in sys.modules  # a Zalo-only bot never loads it
import bot.telegram.runner, bot.zalo.channel  # bot.telegram imports aiogram
import bot.web.app  # the desk starts beside the channels; its templates load with the first page
heavy = sorted(m for m in ("docx", "openpyxl", "xlsxwriter", "matplotlib", "alembic", "numpy", "jinja2")
               if m in sys.modules)
from pydantic import BaseModel
import aiogram.methods, aiogram.types
from aiogram.types import Update

from aiogram.methods.base import Response

# What the bot builds: the update, each method's request and its response (Response[Message], …),
# in any order, each when first used.
methods = [m for n in aiogram.methods.__all__
           if isinstance(m := getattr(aiogram.methods, n), type) and issubclass(m, BaseModel)
           and not isinstance(getattr(m, "__returning__", property()), property)]
built_at_import = [n for n in aiogram.types.__all__ if getattr(getattr(aiogram.types, n),
                                                               "__pydantic_complete__", False)]
models = [Update, *methods, *(Response[m.__returning__] for m in methods)]
random.Random(20).shuffle(models)
unbuildable = [m.__name__ for m in models if not hasattr(m.__pydantic_validator__, "validate_python")
               or not m.__pydantic_complete__ and m.model_rebuild() is False]
update = {"update_id": 7, "callback_query": {"id": "1", "chat_instance": "c", "data": "q:1",
          "from": {"id": 5, "is_bot": False, "first_name": "Lan"},
          "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "Câu 1",
                      "reply_markup": {"inline_keyboard": [[{"text": "Có", "callback_data": "q:1"}]]}}}}
lazy = Update.model_validate(update).model_dump(mode="json", exclude_none=True, by_alias=True)
lazy_schema = Update.model_json_schema()
# What aiogram's own import does to every type, done here to Update: the same model must result.
namespace = {"List": list, **{n: getattr(aiogram.types, n) for n in aiogram.types.__all__}}
Update.model_rebuild(force=True, _types_namespace=namespace)
print(json.dumps({"built_at_import": built_at_import, "unbuildable": unbuildable,
                  "same_schema": Update.model_json_schema() == lazy_schema,
                  "same_update": Update.model_validate(update).model_dump(
                      mode="json", exclude_none=True, by_alias=True) == lazy,
                  "round_trip": lazy == update, "heavy": heavy,
                  "aiogram_before_telegram": aiogram_before_telegram}))
"""


@pytest.fixture(scope="session")
def startup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True,
                                timeout=180, check=True)
        outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return outcome

    return made_once(tmp_path_factory, "startup", run)


def test_telegram_types_are_built_on_first_use_and_validate_as_aiogram_builds_them(
        startup: dict[str, Any]) -> None:
    assert len(startup["built_at_import"]) < 20, startup["built_at_import"]  # aiogram builds ~300
    assert startup["unbuildable"] == []
    assert startup["same_schema"] and startup["same_update"] and startup["round_trip"]


def test_the_running_bot_leaves_documents_migrations_and_unused_channels_until_needed(
        startup: dict[str, Any]) -> None:
    assert startup["heavy"] == []
    assert not startup["aiogram_before_telegram"]


def test_the_collector_held_off_at_start_is_back_on_once_a_command_runs() -> None:
    """`kstthc-bot` holds the garbage collector off while it starts (bot/entry.py): every command
    but `run` turns it back on as it begins, and `run` once its channels are built and their
    start heap set aside. Left off, a bot that runs for weeks would never free a cycle."""
    from click.testing import CliRunner

    from bot.cli import main
    from bot.run import set_start_heap_aside

    outline = Path(__file__).resolve().parents[1] / "outlines" / "ke-hoach-20-2021.yaml"
    gc.disable()
    try:
        result = CliRunner().invoke(main, ["outline", "check", str(outline)])
        assert result.exit_code == 0, result.output
        assert gc.isenabled()

        gc.disable()
        set_start_heap_aside()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process's own heap is not the bot's to keep
        gc.enable()
