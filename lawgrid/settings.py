"""The one place that reads the environment (LAWGRID_* variables or a .env file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWGRID_", env_file=".env", extra="ignore")

    database_url: str | None = None
    """Any PostGIS 3 server; unset means the embedded cluster under data_dir."""
    data_dir: Path = Path("./data")
    database_owner_url: str | None = None
    """The schema owner's URL (migrations, seed, imports) when LAWGRID_DATABASE_URL is the app's."""
    app_role: str = "lawgrid_app"
    """The role the web and ingest processes connect as on the embedded cluster."""
    redis_url: str | None = None
    mqtt_url: str | None = None
    mqtt_client_id: str = "lawgrid-ingest"
    """The broker keeps this subscription's queue; two instances on one broker need two ids."""
    mqtt_topic_prefix: str = "lawgrid"
    """Topics are {prefix}/devices/{id}/telemetry (and .../rejected)."""
    position_retention_months: int = 13
    """Months of position history kept; ingest drops older monthly partitions once a day."""
    live_fix_max_age_s: int = 24 * 3600
    """A fix older than this is history: stored, but it moves no live state and raises no alarm."""
    secret_key: str | None = None
    seal_passphrase: str | None = None
    """Encrypts the enforcement bodies' seal keys in the database. Unset: a passphrase of this
    installation's own, made once in data_dir/seal.secret (mode 0600). Set it in production,
    the same in every web process."""
    font_cache_dir: Path = Path("~/.cache/lawgrid")
    """Where the CJK font's common subset is cut once (from Debian's fonts-noto-cjk) and kept."""
    test_database_url: str | None = None

    public_origins: list[str] = []
    """Origins (scheme://host[:port]) the site is reached at behind a proxy, besides the Host
    each request names; browsers' live sockets are accepted from these only."""
    trusted_proxies: int = 0
    """How many reverse proxies stand in front (0: none). Only then is X-Forwarded-For read for
    the client's address (login throttling, the audit trail); otherwise anyone could pick it."""
    secure_cookies: bool = False
    """Mark the session cookie Secure; turn on when served over HTTPS."""
    idle_timeout_minutes: int = 30
    token_ttl_seconds: int = 8 * 3600

    ingest_host: str = "0.0.0.0"
    jt808_port: int = 5015
    osmand_port: int = 5055
    osmand_keyless: bool = False
    """Accept OsmAnd (Traccar Client) devices that have no key. Off: every device carries one
    (`lawgrid import devices` makes it); on only for a closed network where ids are secret."""
    jt808_login_timeout_s: float = 60.0
    """A JT/T 808 connection that has not authenticated within this long is closed."""
    jt808_idle_timeout_s: float = 600.0
    """A JT/T 808 connection silent this long is closed (terminals send a heartbeat)."""
    ingest_max_connections_per_address: int = 2000
    """JT/T 808 connections one source address may hold (0: no limit). Carriers' NAT puts
    many terminals behind one address: size it to the largest such gateway."""
    ingest_reuse_port: bool = False
    """SO_REUSEPORT on the device ports: run several `lawgrid ingest` processes on one port
    when one core is not enough (the kernel spreads connections over them)."""
    ingest_processes: int = 0
    """Listener processes `lawgrid ingest` runs on the same ports (SO_REUSEPORT); 0: one per
    core, at most four. A district's 10,000 fixes a second need two cores."""
    ingest_worker: int | None = None
    """Set by `lawgrid ingest` for each listener process it starts (its index): not by hand."""
    stale_after_s: int = 60
    offline_after_s: int = 300
    push_interval_s: float = (
        0.2  # live positions: the first after a quiet spell at once, then at most five batches a second
    )
    case_sweep_interval_s: float = 300.0  # every case clock judged this often (0: off); each step judges its own

    host: str = "127.0.0.1"
    port: int = 8050
    access_log: bool = False
    """A log line per web request (lawgrid serve, lawgrid demo); off so the rest stays readable."""
    async_mode: str = "threading"
    """Socket.IO's concurrency: threading (lawgrid serve, tests) or gevent (the production
    server, gunicorn -k gevent, where an open dashboard is a greenlet, not a thread)."""
    basemap: str = "none"
    """none (offline: the district on a plain background) | tianditu | autonavi | osm."""
    tianditu_key: str | None = None
    tile_url: str | None = None
    """A tile template of your own (a local tile server); overrides basemap."""
    tile_crs: str = "wgs84"
    """wgs84 or gcj02: the datum of tile_url's imagery (AutoNavi and Tencent use GCJ-02)."""
    tile_attribution: str = ""

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
