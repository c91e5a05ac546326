"""Hotline's one settings class.

Values come, highest priority first, from constructor arguments, ``HOTLINE_*`` environment
variables (nested with ``__``, e.g. ``HOTLINE_ASR__BEAM_SIZE``), a ``.env`` file, and an
optional YAML file named by ``HOTLINE_CONFIG``. Settings are built once in ``create_app`` /
the CLI and passed down; there is no module-level instance so tests can pass their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from core.errors import ConfigError

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused outside dev


class AuthSettings(BaseModel):
    token_ttl_min: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    cookie_name: str = "hotline_token"


class BusSettings(BaseModel):
    stream: str = Field(default="hotline", description="Stream / subject prefix on Redis or NATS")
    outbox_size: int = Field(default=10_000, ge=1, description="Fire-and-forget queue bound")
    max_stream_len: int = Field(default=1_000_000, ge=1000)
    redeliver_after_ms: int = Field(default=30_000, ge=100)


class ModelSettings(BaseModel):
    dir: Path | None = Field(
        default=None, description="Prepared model files; default data_dir/models"
    )
    warm_up: bool = Field(default=False, description="Load every engine model at startup")


class ASRSettings(BaseModel):
    live_model: str = "whisper-tiny-en"
    multilingual_model: str = "whisper-base"
    beam_size: int = Field(default=1, ge=1, le=10)
    batch_beam_size: int = Field(default=5, ge=1, le=10)
    compute_type: str = "int8"
    cpu_threads: int = Field(default=2, ge=1)


class TTSSettings(BaseModel):
    english_voice: str = "piper-joe-en-us"
    phrase_cache_size: int = Field(default=256, ge=0)


class FeatureSettings(BaseModel):
    """Which model-backed parts start with the app (tests switch the heavy ones off)."""

    voice: bool = Field(default=True, description="Whisper + Piper + VAD/turn voice bots")
    bots: bool = Field(default=True, description="Dialogue engine with the trained demo NLU")
    assist: bool = Field(default=True, description="Live assist: KB (E5 + FAISS) and alerts")
    qa: bool = Field(default=True, description="Score every ended contact")
    campaigns: bool = Field(default=True, description="Outbound campaign scheduler")


class VoiceSettings(BaseModel):
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = Field(default=9092, ge=0, le=65535, description="0 = off")
    announcement: bool = True
    preload_zh: bool = Field(
        default=True, description="Load the Mandarin engines in the background at start-up"
    )
    twilio_auth_token: SecretStr = Field(
        default=SecretStr(""),
        description="Checks X-Twilio-Signature on /voice/twilio; empty = campaigns' token",
    )
    public_ws_url: str = Field(
        default="", description="wss://host as Twilio dials it, when behind a proxy"
    )


class BotsSettings(BaseModel):
    action_server_url: str | None = None
    idle_s: float = Field(default=900, gt=0, description="Close silent chats after this")
    nlu_finetune_layers: int = Field(
        default=0, ge=0, le=6, description="Tune MiniLM's top N layers for English intents"
    )


class CampaignSettings(BaseModel):
    """Outbound dialer (bots/campaigns): browser test phone, Asterisk ARI or Twilio REST."""

    dialer: Literal["browser", "ari", "twilio"] = "browser"
    poll_interval_s: float = 1.0
    ari_url: str = "http://127.0.0.1:8088"
    ari_username: str = "hotline"
    ari_password: SecretStr = SecretStr("")
    ari_app: str = "hotline"
    ari_endpoint: str = "PJSIP/{number}@trunk"
    ari_media_host: str = Field(
        default="127.0.0.1:9092",
        description="host:port Asterisk streams answered calls to (our AudioSocket server)",
    )
    twilio_api_base: str = "https://api.twilio.com"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    public_base_url: str = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    """Every setting of a Hotline process (see README, 'Configuration')."""

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
        validate_default=True,
    )

    env: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("var")
    database_url: str = ""
    bus_url: str = "memory://"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    auth: AuthSettings = AuthSettings()
    bus: BusSettings = BusSettings()
    models: ModelSettings = ModelSettings()
    asr: ASRSettings = ASRSettings()
    tts: TTSSettings = TTSSettings()
    features: FeatureSettings = FeatureSettings()
    voice: VoiceSettings = VoiceSettings()
    bots: BotsSettings = BotsSettings()
    campaigns: CampaignSettings = CampaignSettings()

    @model_validator(mode="after")
    def _derive_and_refuse_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').as_posix()}"
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("secret_key: the dev default is refused when env=prod")
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("secret_key: must be at least 32 characters")
        if not self.bus_url.startswith(("memory://", "redis://", "rediss://", "nats://")):
            raise ValueError("bus_url: use memory://, redis://host:port/db or nats://host:port")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url: use sqlite+aiosqlite:///path or postgresql+asyncpg://…")
        return self

    @property
    def models_dir(self) -> Path:
        return self.models.dir or self.data_dir / "models"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by HOTLINE_CONFIG (lowest priority)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("HOTLINE_CONFIG")
        if not path:
            return {}
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(
                f"HOTLINE_CONFIG={path}: cannot read ({e.strerror}); fix the path or unset it"
            ) from e
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"HOTLINE_CONFIG={path}{where}: invalid YAML; fix the file") from e
        if not isinstance(data, dict):
            raise ConfigError(f"HOTLINE_CONFIG={path}: must be a mapping of setting: value")
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation failures into one-line ConfigErrors naming the field."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "settings"
        env = "HOTLINE_" + "__".join(str(p).upper() for p in first["loc"]) if first["loc"] else ""
        msg = first["msg"].removeprefix("Value error, ")
        hint = f" (env {env})" if env else ""
        raise ConfigError(f"setting {loc}{hint}: {msg}") from e
