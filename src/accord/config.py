"""Typed node settings, read from the environment (prefix ACCORD_) and passed explicitly."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.domain.handling import CommonLevel, Tlp
from accord.i18n import Language
from accord.i18n.zones import parse_zone


class PasswordHashing(StrEnum):
    """The argon2 cost of new password hashes; a stored hash keeps the cost it was made with."""

    PRODUCTION = "production"  # RFC 9106 §4, the second recommended option (64 MiB, 3 passes, 4 lanes)
    TEST = "test"  # the least argon2 allows: for test suites, which make hundreds of accounts


class Settings(BaseSettings):
    """Everything a node process needs to know; nothing else is global."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_", frozen=True)

    data_dir: Path = Field(default=Path("var/node"), description="keys, blobs and the SQLite file")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir if unset")
    host: str = "127.0.0.1"
    port: int = 8400
    public_url: str | None = Field(default=None, description="URL the peer uses to reach this node")
    token_ttl_s: int = 8 * 3600
    password_hashing: PasswordHashing = Field(
        default=PasswordHashing.PRODUCTION, description="cost of new password hashes; `test` only in test suites"
    )
    language: Language = Field(
        default=Language.EN, description="what the node speaks to whoever has not chosen: en, fr or hi"
    )
    time_zone: str | None = Field(
        default=None,
        description="IANA zone times are shown in to whoever has not chosen one (default: the party's, by agreement)",
    )

    @field_validator("time_zone")
    @classmethod
    def _a_known_zone(cls, value: str | None) -> str | None:
        if value:
            parse_zone(value)  # ValueError: 'unknown time zone …; give an IANA name such as America/Toronto'
        return value or None

    web_idle_timeout_s: float = Field(default=1800.0, gt=0, description="a web session ends after this long idle")
    # Sign-in throttling (API token, web sign-in, TAXII Basic): after the free failures, each further one doubles
    # the wait before the next try, from `sign_in_backoff_s` up to `sign_in_backoff_max_s`.
    sign_in_free_failures: int = Field(
        default=5, ge=1, description="failed sign-ins an account (or a name no account has) may have before back-off"
    )
    sign_in_source_free_failures: int = Field(
        default=20, ge=1, description="failed sign-ins one source address may have before back-off (offices share one)"
    )
    sign_in_backoff_s: float = Field(default=1.0, gt=0, description="the first wait once the free failures are used")
    sign_in_backoff_max_s: float = Field(default=900.0, gt=0, description="the longest wait between two tries")
    sign_in_forget_s: float = Field(
        default=3600.0, gt=0, description="one failure is forgotten per this many seconds without another"
    )
    sign_in_lockout_failures: int = Field(
        default=20, ge=1, description="failures that lock an account until an operator unlocks it"
    )
    # Refusals of unauthenticated input are counted per window, not written to the ledger one by one.
    refusal_window_s: int = Field(default=3600, gt=0, description="refusals are counted per window of this length")
    refusal_log_interval_s: float = Field(
        default=60.0, ge=0, description="at most one log line per counter in this time; the rest are counted in it"
    )
    refusal_retention_days: int = Field(default=90, gt=0, description="refusal counters older than this are removed")
    max_body_bytes: int = 64 * 1024
    max_attachment_bytes: int = 64 * 1024 * 1024
    max_batch_bytes: int = 32 * 1024 * 1024
    # The minimisation screen reads each attachment of an outgoing message before policy decides; one it cannot read
    # within these limits is "not screened", which holds the message for a legal officer.
    screen_attachment_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="the largest attachment the screen reads (larger: not screened)"
    )
    screen_attachment_seconds: float = Field(
        default=5.0, gt=0, description="how long the screen may spend reading one attachment"
    )
    screen_attachment_records: int = Field(
        default=200_000, ge=100, description="rows, lines, objects or PDF pages the screen reads in one attachment"
    )
    max_concurrent_uploads: int = Field(
        default=2,
        ge=1,
        description="attachments the peer may upload at once (per node process: with several processes on one "
        "database, each admits this many); one more is refused with 503 until one ends",
    )
    max_concurrent_batches: int = Field(
        default=8,
        ge=1,
        description="envelope batches the peer may send at once (per node process), each held in memory up to "
        "max_batch_bytes; one more is refused with 503 until one ends",
    )
    max_form_bytes: int | None = Field(
        default=None,
        ge=1024,
        description="the largest web form a signed-in officer may post, refused before it is read; unset, room for "
        "one attachment at max_attachment_bytes and 1 MiB of fields",
    )
    max_envelope_age_s: int = 300
    clock_skew_s: int = 60
    outbox_batch_size: int = 200
    outbox_poll_s: float = 0.5
    outbox_lease_s: int = 60
    retry_base_s: float = 0.5
    retry_max_s: float = 60.0
    delivery_workers: int = 2
    urgent_delivery_lane: bool = Field(
        default=True,
        description="beside the delivery workers, one more that carries only immediate and urgent traffic, so that it "
        "never waits for a worker busy with a full batch of routine messages",
    )
    screen_workers: int | None = Field(
        default=None,
        ge=0,
        description="worker processes beside the node process (per node process) that screen bulk batches: decide "
        "those its officers send, screen those that arrive; unset, one a core; 0, that work is done in the node "
        "process (as it should be where several node processes share the machine's cores)",
    )
    checkpoint_interval_s: float = Field(default=60.0, gt=0, description="how often the ledger is checkpointed")
    log_level: str = "info"
    # Prometheus scrapes GET /metrics with a bearer token: the one in this file (a long random string the operator
    # makes, mode 0600), or an operator's API token. Read at each scrape, so it is changed without a restart.
    metrics_token_file: Path | None = Field(
        default=None, description="a file whose first line is the bearer token Prometheus scrapes /metrics with"
    )
    # The deployment's own settings within the agreement and the pack (accord.policy.deployment).
    deployment_file: Path | None = Field(
        default=None, description="the deployment settings file; unset, deployment.yaml in data_dir if it exists"
    )
    channel_ceiling: CommonLevel | None = Field(
        default=None, description="this deployment's channel ceiling, at most the agreement's (over the file's)"
    )
    # Notifications by mail (accord.notifications): unset host, in the app only. The relay is the agency's own; the
    # password is read from ACCORD_SMTP_PASSWORD or, better, from the file ACCORD_SMTP_PASSWORD_FILE names.
    smtp_host: str | None = Field(default=None, description="the agency's SMTP relay for notifications")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="upgrade with STARTTLS (RFC 3207) before authenticating")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = Field(default=None, description="a file whose first line is the SMTP password")
    smtp_from: str = Field(default="accord@localhost", description="the From address of notifications")
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # What a mail may carry of a message: its title and text only if it is marked no higher than this on the common
    # ladder and under this TLP label; above, only that something waits, its kind, priority, deadline and a link.
    smtp_max_marking: CommonLevel = Field(
        default=CommonLevel.UNCLASSIFIED, description="the highest marking whose content a mail may carry"
    )
    smtp_max_tlp: Tlp = Field(default=Tlp.CLEAR, description="the highest TLP label whose content a mail may carry")
    smtp_retry_base_s: float = Field(default=30.0, gt=0, description="the first wait after the relay failed")
    smtp_retry_max_s: float = Field(default=1800.0, gt=0, description="the longest wait between two tries")
    notify_poll_s: float = Field(
        default=1.0, gt=0, description="how often the notifier looks for new events and mail to send"
    )
    notify_deadline_scan_s: float = Field(
        default=60.0, gt=0, description="how often the notifier looks for deadlines drawing near"
    )
    clock_offset_file: Path | None = Field(
        default=None,
        description="test suites only: a file holding seconds the node's clock runs ahead, so a test can let time "
        "pass without waiting; unset, the node's clock is the system clock",
    )

    def smtp_secret(self) -> str | None:
        """The SMTP password: from its file if one is named (it wins over ACCORD_SMTP_PASSWORD), never logged (a
        SecretStr until here)."""
        if self.smtp_password_file is not None:
            lines = self.smtp_password_file.read_text(encoding="utf-8").splitlines()
            return lines[0] if lines else None
        return self.smtp_password.get_secret_value() if self.smtp_password else None

    def metrics_token(self) -> str | None:
        """The scrape token from `metrics_token_file`, or None when there is none (or it is empty)."""
        if self.metrics_token_file is None:
            return None
        lines = self.metrics_token_file.read_text(encoding="utf-8").splitlines()
        token = lines[0].strip() if lines else ""
        return token or None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'accord.sqlite3').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


NODE_FILE = "node.json"


def write_node_file(data_dir: Path, host: str, port: int, public_url: str | None) -> None:
    """Remember how this node listens, so `accord node serve --data DIR` needs nothing else."""
    import json

    (data_dir / NODE_FILE).write_text(
        json.dumps({"host": host, "port": port, "public_url": public_url}, indent=2) + "\n", encoding="utf-8"
    )


def load_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for the node in `data_dir`: explicit overrides, then its node.json, then ACCORD_* variables."""
    import json

    values: dict[str, object] = {"data_dir": data_dir}
    node_file = data_dir / NODE_FILE
    if node_file.exists():
        stored = json.loads(node_file.read_text(encoding="utf-8"))
        values.update({k: v for k, v in stored.items() if v is not None})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
