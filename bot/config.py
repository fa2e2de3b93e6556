"""Settings from KSTTHC_* environment variables and an optional .env file."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr
from pydantic_settings import BaseSettings, SettingsConfigDict

from deadlines.calendar_file import load_calendar
from deadlines.workdays import VN_TZ, WorkingCalendar

DEFAULT_DATABASE_FILE = "kstthc.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KSTTHC_", env_file=".env", extra="ignore")
    # When these settings were read: where a drill's clock (KSTTHC_NOW) starts running from.
    _started: float = PrivateAttr(default_factory=time.monotonic)

    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}",
        description="SQLAlchemy async URL; a SQLite file in the working directory by default",
    )
    sqlite_synchronous: str = Field(default="FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    province_code: int = 92
    locale: str = Field(default="vi", pattern="^(vi|en)$")
    outline_file: str = "ke-hoach-20-2021.yaml"
    telegram_token: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    # The bot's @username (without the @), for the t.me links `kstthc-bot invite` prints.
    telegram_bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{5,32}$")
    telegram_workers: int = Field(default=8, ge=1, le=256)
    telegram_poll_timeout: int = Field(default=25, ge=0, le=50)
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = Field(default=None, min_length=8, max_length=256)
    telegram_webhook_host: str = "127.0.0.1"
    telegram_webhook_port: int = 8080
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_webhook_max_body: int = 1_000_000
    telegram_notify_chats: str = Field(default="", description="comma-separated group chat ids")
    outbox_rate_per_s: float = Field(default=25.0, gt=0)
    outbox_per_chat_interval: float = Field(default=1.0, ge=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    shutdown_grace: float = Field(default=8.0, gt=0)
    calendar_file: Path | None = Field(
        default=None, description="YAML of the province's own days off and make-up working days")
    planner_interval: float = Field(default=60.0, gt=0)
    inbox_retention_days: int = Field(
        default=30, ge=1, le=3650, description="days an incoming event is kept after it was "
        "processed (its raw payload is emptied once applied); see storage/retention.py")
    now: datetime | None = Field(
        default=None, description="a drill's clock, for tests and drills only (KSTTHC_NOW): it "
        "starts at this moment when the process starts and runs on from there")
    zalo_token: str | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"
    zalo_workers: int = Field(default=8, ge=1, le=256)
    zalo_poll_timeout: int = Field(default=30, ge=1, le=60)
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = Field(default=None, min_length=8, max_length=256)
    zalo_webhook_host: str = "127.0.0.1"
    zalo_webhook_port: int = 8081
    zalo_webhook_path: str = "/zalo/webhook"
    zalo_webhook_max_body: int = 1_000_000
    zalo_notify_chats: str = Field(default="", description="comma-separated chat ids")
    data_dir: Path = Field(
        default_factory=lambda: Path.cwd() / "kstthc-data",
        description="the folder of the files the bot keeps (attachments), made owner-only")
    # Telegram's Bot API lets a bot download files up to 20 MB: larger ones could not be fetched.
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=2_000_000_000)
    # The VP office's web desk (bot/web): where it listens, the address people reach it at
    # (behind the reverse proxy; https makes its cookie Secure), and the idle time that ends a session.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    # At the root of its own host name: the desk's links and redirects are absolute paths.
    web_public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+/?$")
    web_idle_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


    def clock(self) -> Callable[[], datetime]:
        """The real clock; or, in a drill, one that starts at KSTTHC_NOW and runs on, so that
        what waits for a later moment (a retry after a failed send, the next reminder) comes."""
        start = self.now
        if start is None:
            return lambda: datetime.now(UTC)
        origin = start if start.tzinfo else start.replace(tzinfo=UTC)
        started = self._started
        return lambda: origin + timedelta(seconds=time.monotonic() - started)

    def today(self) -> date:
        """Today in Vietnam by `clock()`: a drill's (KSTTHC_NOW), like every date."""
        return self.clock()().astimezone(VN_TZ).date()

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def working_calendar(self) -> WorkingCalendar:
        return load_calendar(self.calendar_file) if self.calendar_file else WorkingCalendar()

    @property
    def web_base_url(self) -> str:
        """Where the desk's links point: the public address, else the one it listens on."""
        return (self.web_public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def telegram_notify_chat_list(self) -> list[str]:
        return [chat.strip() for chat in self.telegram_notify_chats.split(",") if chat.strip()]

    @property
    def zalo_notify_chat_list(self) -> list[str]:
        return [chat.strip() for chat in self.zalo_notify_chats.split(",") if chat.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
