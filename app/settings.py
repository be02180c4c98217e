"""Every setting of the service, read from environment variables (and a `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Service settings; each field is the environment variable of the same name in capitals."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:54329/cpts",
        description="PostgreSQL/PostGIS connection URL (default: the project's private cluster).",
    )
    port: int = Field(default=8000, description="HTTP port of `cpts serve`.")
    host: str = Field(default="127.0.0.1", description="Interface `cpts serve` listens on.")
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout_s: float = Field(
        default=3.0, gt=0, description="How long a request waits for a database connection."
    )
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    cache_dir: Path = Field(
        default=PROJECT_ROOT / ".cache", description="Downloaded sources and built artefacts."
    )
    log_level: str = Field(default="INFO")
    tile_cache_size: int = Field(default=4096, ge=0, description="Tiles kept in memory.")
    tile_max_age_s: int = Field(default=3600, ge=0, description="Cache-Control max-age of tiles.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
