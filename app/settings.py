"""Every setting of the service, read from environment variables (and a `.env` file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def private_cluster_url(database: str) -> str:
    """The URL of `database` on the project's private cluster (scripts/postgis.sh), whose port
    is kept in .pg/port."""
    port_file = PROJECT_ROOT / ".pg" / "port"
    port = port_file.read_text().strip() if port_file.exists() else "54329"
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


class Settings(BaseSettings):
    """Service settings; each field is the environment variable of the same name in capitals."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: private_cluster_url("cpts"),
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
    cog_package: str = Field(
        default="6.0.0", description="Version of @etalab/decoupage-administratif giving the COG."
    )
    log_level: str = Field(default="INFO")
    tile_cache_size: int = Field(default=4096, ge=0, description="Tiles kept in memory.")
    tile_max_age_s: int = Field(default=3600, ge=0, description="Cache-Control max-age of tiles.")
    # Bulk imports (POST /api/imports/cpts): larger uploads get 413 `upload_too_large`; a
    # national file of 35,000 `cpts;code_commune` rows is about 1.5 MB.
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest file an import accepts (bytes).")
    # An XLSX is refused (413) when its parts add up to more than this once decompressed, any
    # import when it has more rows than this, blank ones included (app.domain.upload_limits).
    max_xlsx_uncompressed_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024 * 1024,
        description="Largest total size of an imported XLSX once decompressed (bytes).")
    max_import_rows: int = Field(
        default=200_000, ge=100, description="Most rows an import file may have.")

    # --- Accounts, sessions and access (app/auth) -------------------------------------------
    session_max_age_s: int = Field(
        default=12 * 3600, ge=60, description="Absolute lifetime of a browser session.")
    session_idle_timeout_s: int = Field(
        default=2 * 3600, ge=60, description="A session unused for this long expires.")
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the cookies; unset: set when the request came over HTTPS "
                    "(behind a proxy, run uvicorn with --proxy-headers).")
    login_delay_after_failures: int = Field(
        default=5, ge=1, description="Consecutive failed logins after which each new attempt "
                                     "must wait (the delay doubles at each failure).")
    login_delay_base_s: float = Field(default=2.0, ge=0, description="First delay.")
    login_delay_max_s: float = Field(default=60.0, ge=0, description="Longest delay.")
    login_lockout_after_failures: int = Field(
        default=10, ge=1, description="Consecutive failed logins that lock the account.")
    login_lockout_s: int = Field(default=15 * 60, ge=1, description="How long a lock lasts.")
    login_failure_window_s: int = Field(
        default=3600, ge=60, description="Failures older than this are forgotten.")
    login_ip_max_failures: int = Field(
        default=50, ge=1, description="Failed logins from one address (any account) within "
                                      "the window after which that address must wait.")
    publish_signed_cpts: bool = Field(
        default=False, description="Anonymous visitors may read CPTS whose contract is signed.")
    forwarded_allow_ips: str = Field(
        default="", description="Comma-separated addresses (or networks) of the reverse proxies "
                                "whose X-Forwarded-For / X-Forwarded-Proto `cpts serve` "
                                "believes; empty: none, the client is the peer of the socket.")
    trusted_origins: str = Field(
        default="", description="Comma-separated origins (https://carte.example.fr) besides "
                                "the service's own from which browsers may sign in and write.")

    # --- Look of the pages (app/services/theme.py) ------------------------------------------
    # The DSFR (Système de Design de l'État) may be used only on websites of the French State:
    # territorial administrations (régions, départements, communes…) and private actors may not
    # use it, and a State administration needs the approval of the Service d'information du
    # Gouvernement. Hence the default is the project's own theme, without the State's identity.
    ui_theme: Literal["cpts", "dsfr"] = Field(
        default="cpts",
        description="Theme of the pages: `cpts` (default), the project's own look, without the "
                    "State's identity (no Marianne, no « République Française » block, no DSFR "
                    "file); `dsfr`, the Système de Design de l'État, for State websites only "
                    "(its terms of use forbid it to territorial administrations and private "
                    "actors; State administrations need an approval).")
    ui_legal_notice_url: str = Field(
        default="", pattern=r"^$|^(https?://|/)[^\s\"'<>]*$",
        description="Address of the deployment's legal notice (« Mentions légales »: publisher, "
                    "director of publication, host), linked from every page's footer in both "
                    "themes (the DSFR requires the link); empty: no link.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
