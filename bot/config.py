"""Settings from KSTTHC_* environment variables and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_FILE = "kstthc.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KSTTHC_", env_file=".env", extra="ignore")

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
    zalo_token: str | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
