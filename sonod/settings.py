"""One settings object for every process, read from `SONOD_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Read by `sonod seed` alone, which runs in dev mode only: no production secret.
DEMO_ONLY = frozenset({"demo_password", "demo_portal_key", "demo_totp_secret"})
DEV_SECRETS = {
    "secret_key": "dev-secret-key-change-me-0123456789abcdef",
    "master_key": "ZGV2LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyEhISE=",
    "payload_key": "ZGV2LXBheWxvYWQta2V5LTMyLWJ5dGVzLWxvbmchISE=",
    "payment_secret": "demo-payment-secret",
    "porichoy_api_key": "demo-porichoy-key",
    "demo_password": "sonod-demo",
    "demo_portal_key": "demo-portal-key",
    "demo_totp_secret": "SHW5O47OQTSWH5WN44AOAYKOTYDOC2UH",
}
# The payment gateways' demo credentials (the simulator's, infra/gateways): refused outside dev mode for the
# providers in SONOD_PAYMENT_PROVIDERS, whose SONOD_<PROVIDER>_URL must then be set too.
PAYMENT_DEV_SECRETS = {
    "ekpay": {"ekpay_password": "demo-ekpay-pass-key"},
    "bkash": {"bkash_password": "demo-bkash-password", "bkash_app_secret": "demo-bkash-app-secret"},
    "sslcommerz": {"sslcommerz_store_password": "demo-sslcommerz-password"},
    "nagad": {"nagad_merchant_key_file": "infra/gateways/keys/nagad-merchant-demo.pem"},
}


# The SMS providers' demo credentials (infra/smsgw's): refused outside dev mode when a route names the provider.
SMS_PROVIDERS = ("sslwireless", "bulksmsbd", "http", "file")
SMS_DEV_SECRETS = {"sms_dlr_secret": "demo-sms-dlr-secret", "sslwireless_api_token": "demo-sslwireless-token",
                   "bulksmsbd_api_key": "demo-bulksmsbd-key"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SONOD_", extra="ignore")

    dev_mode: bool = True
    var_dir: Path = ROOT / "var"

    # database: SQLite under var/ unless a URL is given
    database_url: str = ""

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_bin: Path | None = Field(None, description="the temporal CLI; default: next to Python, then PATH")
    temporal_ui_port: int = 8233
    temporal_ui_url: str = "http://127.0.0.1:8233"
    task_queue: str = "sonod"
    workflow_cache_size: int = 10_000
    max_concurrent_activities: int = 200

    # observability (docs/OPERATIONS.md)
    worker_metrics_port: int = Field(0, description="the worker's /metrics and /healthz; 0 = off")
    worker_metrics_host: str = "127.0.0.1"
    log_format: str = Field("json", pattern="^(json|text)$", description="json: one object a line, no NID or name")
    log_level: str = "INFO"

    # processes
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    base_domain: str = "sonod.localhost"
    porichoy_host: str = "127.0.0.1"
    porichoy_port: int = 8090
    porichoy_url: str = "http://127.0.0.1:8090"
    porichoy_api_key: str = DEV_SECRETS["porichoy_api_key"]
    porichoy_timeout_s: float = 5.0
    # the time-stamping authority (RFC 3161) of the PDFs' signatures (activities/pades.py); empty: the TSA of the
    # sonod PKI inside the worker (dev mode only). `sonod dev` starts infra/tsa on tsa_port and points this at it
    tsa_url: str = Field("", description="RFC 3161 time-stamping authority; required outside dev mode")
    tsa_host: str = "127.0.0.1"
    tsa_port: int = 8092
    tsa_timeout_s: float = Field(5.0, gt=0)
    # the NID check (docs/INTEGRATIONS.md): the partner-service protocol, or the older KYC one
    nid_protocol: Literal["partner", "kyc"] = "partner"
    porichoy_username: str = Field("sonod", description="the partner protocol's log-in; its password: the API key")
    porichoy_token_refresh_s: float = Field(60.0, ge=0, description="renew the partner token this long before expiry")
    brn_url: str = Field("", description="the birth registration lookup; empty: SONOD_PORICHOY_URL + /bdris")
    brn_api_key: str = Field("", description="its x-api-key; empty: SONOD_PORICHOY_API_KEY")

    # slow clients of the API (api/guards.py): 408 and the connection closed past these bounds
    api_head_timeout_s: float = Field(10.0, gt=0, description="a request's line and headers must arrive within this")
    api_body_chunk_timeout_s: float = Field(10.0, gt=0, description="longest wait for the next piece of a body")
    api_body_timeout_s: float = Field(30.0, gt=0, description="a request's body must arrive whole within this")
    api_max_connections: int = Field(1000, gt=0, description="beyond this many connections uvicorn answers 503")

    # payment gateways (docs/INTEGRATIONS.md); an empty URL is the simulator's at gateways_url (dev mode only)
    payment_providers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="ekpay,bkash,sslcommerz,nagad: those contracted; dev mode: all four")
    payment_timeout_s: float = Field(10.0, gt=0, description="timeout of one call to a payment gateway")
    gateways_host: str = "127.0.0.1"
    gateways_port: int = 8091
    gateways_url: str = "http://127.0.0.1:8091"
    ekpay_url: str = ""
    ekpay_merchant_id: str = "sonod_demo"
    ekpay_password: str = PAYMENT_DEV_SECRETS["ekpay"]["ekpay_password"]
    ekpay_mac_addr: str = Field("127.0.0.1", description="the address ekPay whitelisted for this merchant")
    bkash_url: str = ""
    bkash_username: str = "sonod-demo"
    bkash_password: str = PAYMENT_DEV_SECRETS["bkash"]["bkash_password"]
    bkash_app_key: str = "demo-bkash-app-key"
    bkash_app_secret: str = PAYMENT_DEV_SECRETS["bkash"]["bkash_app_secret"]
    sslcommerz_url: str = ""
    sslcommerz_store_id: str = "sonod-demo"
    sslcommerz_store_password: str = PAYMENT_DEV_SECRETS["sslcommerz"]["sslcommerz_store_password"]
    nagad_url: str = ""
    nagad_merchant_id: str = "689900000000001"
    nagad_merchant_number: str = "01700000001"
    nagad_merchant_key_file: str = Field(PAYMENT_DEV_SECRETS["nagad"]["nagad_merchant_key_file"],
                                         description="PEM: the merchant's RSA private key (relative: to the checkout)")
    nagad_gateway_public_key_file: str = "infra/gateways/keys/nagad-gateway-demo.pub.pem"

    # secrets (refused at their defaults outside dev mode)
    secret_key: str = DEV_SECRETS["secret_key"]
    master_key: str = Field(DEV_SECRETS["master_key"], description="base64 of 32 bytes: wraps signing keys")
    payload_key: str = Field(DEV_SECRETS["payload_key"], description="base64 of 32 bytes: encrypts Temporal payloads")
    payload_key_id: str = "k1"
    payload_old_keys: dict[str, str] = Field(default_factory=dict, description="retired payload keys by id")
    payment_secret: str = DEV_SECRETS["payment_secret"]
    demo_password: str = DEV_SECRETS["demo_password"]
    demo_portal_key: str = DEV_SECRETS["demo_portal_key"]
    demo_totp_secret: str = DEV_SECRETS["demo_totp_secret"]

    # officers' sessions
    token_ttl_minutes: int = 30
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_address_max_failures: int = Field(50, gt=0, description="failed log-ins from one address, any accounts")
    login_account_max_failures: int = Field(20, gt=0, description="failed log-ins on one account, any addresses")
    # reverse proxies whose X-Forwarded-For is believed (api/deps.client_ip); "10.0.0.5,10.1.0.0/16" or JSON
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)

    # deadlines and escalation (the unions' own day counts come from the catalogue)
    reminder_interval_hours: float = 24.0
    escalate_after_days: float = 3.0
    payment_expiry_days: float = 7.0
    # the fee's gateway where a union names none (unions.payment_provider): callback (the signed
    # POST /api/v1/payments/callback), ekpay, bkash, sslcommerz or nagad; and how often sonod asks a gateway about
    # an open order when no notification has come
    payment_provider: str = Field("callback", pattern="^(callback|ekpay|bkash|sslcommerz|nagad)$")
    payment_poll_minutes: float = Field(5.0, gt=0)
    correction_expiry_days: float = 30.0

    # delivery
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "sonod@sonod.localhost"
    sms_sink: Path | None = None  # the "file" provider's JSON lines; default var/sms.jsonl
    # SMS providers (activities/sms/, docs/INTEGRATIONS.md "SMS"): union slug (or "*") -> providers, first one first,
    # the next when it refuses or does not answer; `sonod dev` routes "*" to its simulator
    sms_routes: dict[str, list[str]] = Field(default_factory=lambda: {"*": ["file"]})
    sms_timeout_s: float = Field(10.0, gt=0, description="timeout of one call to an SMS provider")
    sms_max_attempts: int = Field(6, ge=1, description="attempts before an SMS is marked failed")
    sms_retry_base_s: float = Field(30.0, gt=0, description="wait before the 2nd attempt, doubled each time after")
    sms_retry_max_s: float = Field(3600.0, gt=0, description="longest wait between two attempts")
    sms_retry_poll_s: float = Field(5.0, gt=0, description="how often the worker looks for SMS due for a retry")
    sms_dlr_secret: str = SMS_DEV_SECRETS["sms_dlr_secret"]
    smsgw_host: str = "127.0.0.1"
    smsgw_port: int = 8093
    smsgw_url: str = "http://127.0.0.1:8093"
    sslwireless_url: str = "https://smsplus.sslwireless.com"
    sslwireless_api_token: str = SMS_DEV_SECRETS["sslwireless_api_token"]
    sslwireless_sid: str = "SONOD"
    bulksmsbd_url: str = "https://bulksmsbd.net"
    bulksmsbd_api_key: str = SMS_DEV_SECRETS["bulksmsbd_api_key"]
    bulksmsbd_senderid: str = "8809600000000"
    sms_http_url: str = Field("", description="the generic provider: URL with $to $msisdn $text $ref")
    sms_http_method: str = Field("POST", pattern="^(GET|POST|PUT)$")
    sms_http_body: str = ""
    sms_http_content_type: str = Field("json", pattern="^(json|form)$")
    sms_http_headers: dict[str, str] = Field(default_factory=dict)
    sms_http_success: dict[str, Any] = Field(default_factory=dict, description="top-level JSON pairs of a yes")
    sms_http_id_field: str = ""

    @field_validator("payment_providers", mode="before")
    @classmethod
    def _provider_list(cls, value):
        if isinstance(value, str):
            value = [p.strip().lower() for p in value.split(",") if p.strip()]
        unknown = sorted(set(value) - set(PAYMENT_DEV_SECRETS))
        if unknown:
            raise ValueError(f"unknown payment providers {unknown}; known: {', '.join(PAYMENT_DEV_SECRETS)}")
        return value

    @property
    def enabled_payment_providers(self) -> list[str]:
        return self.payment_providers or (list(PAYMENT_DEV_SECRETS) if self.dev_mode else [])

    def gateway_url(self, provider: str) -> str:
        """The provider's API base: SONOD_<PROVIDER>_URL, else the simulator's."""
        paths = {"ekpay": "/ekpay/ekpaypg/v1", "bkash": "/bkash/v1.2.0-beta/tokenized/checkout",
                 "sslcommerz": "/sslcommerz", "nagad": "/nagad/remote-payment-gateway-1.0/api/dfs"}
        return (getattr(self, f"{provider}_url") or self.gateways_url.rstrip("/") + paths[provider]).rstrip("/")

    def _payment_defaults(self) -> list[str]:
        refused = []
        for provider in self.enabled_payment_providers:
            refused += [f"SONOD_{name.upper()}" for name, value in PAYMENT_DEV_SECRETS[provider].items()
                        if getattr(self, name) == value]
            if not getattr(self, f"{provider}_url"):
                refused.append(f"SONOD_{provider.upper()}_URL")
        return refused

    @field_validator("sms_routes")
    @classmethod
    def _sms_routes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted({p for providers in value.values() for p in providers} - set(SMS_PROVIDERS))
        if unknown or not all(value.values()) or "*" not in value:
            raise ValueError(f'SMS routes: a "*" route, and each names at least one of {", ".join(SMS_PROVIDERS)}'
                             + (f"; not {', '.join(unknown)}" if unknown else ""))
        return value

    def _sms_defaults(self) -> list[str]:
        routed = {p for providers in self.sms_routes.values() for p in providers} - {"file"}
        needed = {"sms_dlr_secret"} if routed else set()
        needed |= {f"{p}_api_{'token' if p == 'sslwireless' else 'key'}" for p in routed & {"sslwireless", "bulksmsbd"}}
        return [f"SONOD_{name.upper()}" for name in sorted(needed) if getattr(self, name) == SMS_DEV_SECRETS[name]]

    @model_validator(mode="after")
    def _payment_provider_contracted(self) -> Settings:
        if self.payment_provider != "callback" and self.payment_provider not in self.enabled_payment_providers:
            raise ValueError(f"SONOD_PAYMENT_PROVIDER {self.payment_provider} is not one of SONOD_PAYMENT_PROVIDERS")
        return self

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _address_list(cls, value):
        if isinstance(value, str):
            import json

            value = json.loads(value) if value.lstrip().startswith("[") else [a for a in value.split(",") if a.strip()]
        return [a.strip() if isinstance(a, str) else a for a in value]

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'sonod.db'}"

    @property
    def pdf_dir(self) -> Path:
        return self.var_dir / "certificates"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if not self.dev_mode:
            defaults = [f"SONOD_{name.upper()}" for name, value in DEV_SECRETS.items()
                        if getattr(self, name) == value and name not in DEMO_ONLY] + self._payment_defaults()
            defaults += self._sms_defaults()
            defaults += [] if self.tsa_url else ["SONOD_TSA_URL"]
            if defaults:
                raise ValueError(
                    "outside dev mode these secrets must be set to non-default values: " + ", ".join(defaults)
                )
        for name in ("master_key", "payload_key"):
            _check_key(name, getattr(self, name))
        for kid, key in self.payload_old_keys.items():
            _check_key(f"payload_old_keys[{kid}]", key)
        if self.database_url and not self.database_url.startswith(("postgresql", "sqlite")):
            scheme = self.database_url.split(":", 1)[0]
            raise ValueError(f"SONOD_DATABASE_URL must be a postgresql:// or sqlite:// URL, not {scheme}://…")
        return self


def _check_key(name: str, value: str) -> None:
    import base64
    import binascii

    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"SONOD_{name.upper()} must be base64") from None
    if len(raw) != 32:
        raise ValueError(f"SONOD_{name.upper()} must decode to 32 bytes, not {len(raw)}")


@lru_cache
def get_settings() -> Settings:
    return Settings()
