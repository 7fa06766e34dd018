"""All configuration, read once from the environment (and `.env`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import DomainError
from models.i18n import N_
from models.meetings import FailureReason
from models.payouts import Tariffs


class MissingSecretKey(RuntimeError):
    """KORTKONTOR_SECRET_KEY is required outside the demo and the tests."""


class UnsafeSettings(DomainError):
    """Settings that contradict each other; the message says which to change."""

    code = "unsafe_settings"


class InvalidSetting(DomainError):
    """An environment variable with a value its setting does not allow."""

    code = "invalid_setting"


class Settings(BaseSettings):
    """The environment variables of DESIGN.md; field names are the variables, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///kortkontor.db"
    kortkontor_secret_key: SecretStr | None = None
    # While the secret key is replaced: the keys before it, comma-separated, still read
    # (`kortkontor keys rotate` writes everything anew under the current key).
    kortkontor_old_secret_keys: SecretStr | None = None
    kortkontor_api_token: SecretStr | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_messages_per_second: float = 10
    # The SMS chat answers one number at most this often: a cap on the cost, and the end of a
    # loop with an auto-responder.
    sms_replies_per_hour: int = Field(default=20, ge=1)
    sms_replies_per_day: int = Field(default=60, ge=1)
    # How old a `sending` outbox row must be before start-up treats its claimer as crashed
    # (default: at once on SQLite, the only dispatcher; 2 minutes on PostgreSQL). The periodic
    # recovery while serving never takes a claim younger than 2 minutes.
    outbox_stale_claim_seconds: int | None = None
    # How often serve looks for `sending` rows a crashed process left (default: every minute).
    outbox_recover_seconds: float | None = Field(default=None, gt=0)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "kortkontor@localhost"
    smtp_starttls: bool = False

    # Tariffs in öre: 500 kr per card handed out, 250 kr per extra meeting.
    kortkontor_tariff_handout_ore: int = 50_000
    kortkontor_tariff_extra_meeting_ore: int = 25_000
    # The failure reasons that make the card's next meeting a paid extra meeting, comma-separated
    # (no_valid_id, wrong_person, no_pin_letter, no_show, other): by default every one, since
    # another meeting is then needed to hand the card out.
    kortkontor_tariff_extra_meeting_reasons: str = ",".join(FailureReason)

    web_host: str = "127.0.0.1"
    web_port: int = 8000
    public_base_url: str | None = None
    # A dashboard session unused this long ends (it ends 12 hours after login in any case).
    dashboard_idle_minutes: int = Field(default=30, ge=1, le=12 * 60)
    # The bearer token /metrics asks for; without it /metrics answers local clients only.
    metrics_token: SecretStr | None = None
    # Cookies (the dashboard's session) only over https. Behind a TLS proxy the service itself
    # sees plain http, so this is a setting, not a guess; only the demo and tests turn it off.
    cookie_secure: bool = True
    # `text` or `json` (one object a line); checked at start-up (kortkontor.logs).
    log_format: str = "text"

    @field_validator("kortkontor_tariff_extra_meeting_reasons")
    @classmethod
    def _known_reasons(cls, value: str) -> str:
        """Every name a failure reason's: a misspelt one would silently pay less."""
        unknown = [name for name in _names(value) if name not in FailureReason.__members__]
        if unknown:
            allowed = ", ".join(FailureReason)
            raise ValueError(f"unknown failure reason {unknown[0]!r}; allowed: {allowed}")
        return value

    def tariffs(self) -> Tariffs:
        """What the admins are paid, from the KORTKONTOR_TARIFF_* variables."""
        return Tariffs(
            handout_ore=self.kortkontor_tariff_handout_ore,
            extra_meeting_ore=self.kortkontor_tariff_extra_meeting_ore,
            extra_meeting_reasons=frozenset(
                FailureReason(name) for name in _names(self.kortkontor_tariff_extra_meeting_reasons)
            ),
        )

    def check_cookie_secure(self) -> None:
        """A plain-http PUBLIC_BASE_URL needs COOKIE_SECURE=false said out loud: browsers keep no
        Secure cookie from an http page, and no one could log in."""
        if self.cookie_secure and (self.public_base_url or "").lower().startswith("http://"):
            raise UnsafeSettings(
                N_(
                    "PUBLIC_BASE_URL is plain http, but COOKIE_SECURE is on: browsers keep no "
                    "Secure cookie from an http page, so no one could log in to the dashboard. "
                    "Use https, or set COOKIE_SECURE=false."
                )
            )

    def secrets(self) -> list[str]:
        """Every configured secret: none of them may reach a log line."""
        values = (
            self.telegram_bot_token,
            self.twilio_auth_token,
            self.smtp_password,
            self.kortkontor_api_token,
            self.kortkontor_secret_key,
            self.metrics_token,
        )
        return [value.get_secret_value() for value in values if value is not None] + (
            self.old_secret_keys()
        )

    def outbox_recover_every(self) -> timedelta | None:
        """OUTBOX_RECOVER_SECONDS as an interval; None leaves the scheduler's default."""
        if self.outbox_recover_seconds is None:
            return None
        return timedelta(seconds=self.outbox_recover_seconds)

    def old_secret_keys(self) -> list[str]:
        """KORTKONTOR_OLD_SECRET_KEYS as a list."""
        if self.kortkontor_old_secret_keys is None:
            return []
        keys = self.kortkontor_old_secret_keys.get_secret_value().split(",")
        return [key.strip() for key in keys if key.strip()]

    def secret_key(self) -> str:
        """The key that encrypts personnummer; start-up stops without it."""
        if self.kortkontor_secret_key is None or not self.kortkontor_secret_key.get_secret_value():
            raise MissingSecretKey(
                "KORTKONTOR_SECRET_KEY saknas. Sätt en lång slumpad nyckel, t.ex. "
                '`export KORTKONTOR_SECRET_KEY="$(python3 -c '
                "'import secrets; print(secrets.token_urlsafe(48))')\"`"
            )
        return self.kortkontor_secret_key.get_secret_value()


def load_settings() -> Settings:
    """The settings from the environment and `.env`. A value that is not allowed is one error
    naming the variable and the rule, never the value: it may be a secret."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidSetting(
            N_("The setting {name} has a value that is not allowed ({rule}): change it."),
            name="_".join(str(part) for part in first["loc"]).upper(),
            rule=first["msg"],
        ) from None


def _names(value: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [name.strip() for name in value.split(",") if name.strip()]
