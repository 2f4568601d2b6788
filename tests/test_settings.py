"""Settings: safe defaults in dev mode, refused defaults in production, and clear errors from the CLI."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from sonod.settings import DEMO_ONLY, DEV_SECRETS, ROOT, Settings

GOOD_KEY = base64.b64encode(b"k" * 32).decode()
PRODUCTION_SECRETS = {
    "secret_key": "a-real-secret-key",
    "master_key": base64.b64encode(b"m" * 32).decode(),
    "payload_key": base64.b64encode(b"p" * 32).decode(),
    "payment_secret": "a-real-payment-secret",
    "porichoy_api_key": "a-real-porichoy-key",
    "demo_password": "a-real-demo-password",
    "demo_portal_key": "a-real-portal-key",
    "demo_totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Each test states the SONOD_ variables it means; the runner's own (SONOD_DATABASE_URL in CI) are hidden."""
    for name in list(os.environ):
        if name.upper().startswith("SONOD_"):
            monkeypatch.delenv(name)


def production(**overrides: str) -> dict[str, str]:
    values = {"dev_mode": "false", "tsa_url": "https://tsa.example.gov.bd", **PRODUCTION_SECRETS, **overrides}
    return {f"SONOD_{name.upper()}": value for name, value in values.items()}


def test_defaults_work_in_dev_mode():
    settings = Settings()

    assert settings.dev_mode is True
    assert settings.db_url == f"sqlite:///{settings.var_dir / 'sonod.db'}"
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.demo_password == "sonod-demo"


def test_production_accepts_real_secrets(monkeypatch):
    for name, value in production().items():
        monkeypatch.setenv(name, value)

    assert Settings().dev_mode is False


@pytest.mark.parametrize("secret", sorted(set(DEV_SECRETS) - DEMO_ONLY))
def test_production_refuses_each_default_secret(monkeypatch, secret):
    for name, value in production(**{secret: DEV_SECRETS[secret]}).items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert f"SONOD_{secret.upper()}" in str(refused.value)
    others = [f"SONOD_{name.upper()}" for name in DEV_SECRETS if name != secret]
    assert not any(other in str(refused.value) for other in others)


def test_production_needs_a_time_stamping_authority(monkeypatch):
    """Outside dev mode the PDFs' timestamps come from a TSA of the deployment's choosing, never in-process."""
    for name, value in production(tsa_url="").items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert "SONOD_TSA_URL" in str(refused.value)


@pytest.mark.parametrize("secret", sorted(DEMO_ONLY))
def test_production_ignores_the_demo_seeds_secrets_which_only_dev_mode_reads(monkeypatch, secret):
    for name, value in production(**{secret: DEV_SECRETS[secret]}).items():
        monkeypatch.setenv(name, value)

    assert Settings().dev_mode is False


@pytest.mark.parametrize("key", ["master_key", "payload_key"])
@pytest.mark.parametrize("value, problem", [
    ("not base64 at all!", "base64"),
    (base64.b64encode(b"short").decode(), "32 bytes"),
    (base64.b64encode(b"x" * 33).decode(), "32 bytes"),
])
def test_malformed_keys_are_refused(monkeypatch, key, value, problem):
    monkeypatch.setenv(f"SONOD_{key.upper()}", value)

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert f"SONOD_{key.upper()}" in str(refused.value)
    assert problem in str(refused.value)


def test_retired_payload_keys_are_checked(monkeypatch):
    monkeypatch.setenv("SONOD_PAYLOAD_OLD_KEYS", '{"k0": "dG9vIHNob3J0"}')

    with pytest.raises(ValidationError, match="payload_old_keys"):
        Settings()


@pytest.mark.parametrize("url", ["mysql://root@localhost/sonod", "postgres-ish", "redis://127.0.0.1"])
def test_database_url_of_another_kind_is_refused(monkeypatch, url):
    monkeypatch.setenv("SONOD_DATABASE_URL", url)

    with pytest.raises(ValidationError, match="SONOD_DATABASE_URL"):
        Settings()


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/sonod", "sqlite:////tmp/sonod.db"])
def test_database_urls_of_both_kinds_are_accepted(monkeypatch, url):
    monkeypatch.setenv("SONOD_DATABASE_URL", url)

    assert Settings().db_url == url


# --- the CLI turns these into one line, never a traceback -------------------------------------------------------


def sonod(*args: str, tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SONOD_")}
    clean |= {"SONOD_VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], check=False, env=clean, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def one_clear_line(run: subprocess.CompletedProcess[str]) -> str:
    output = (run.stdout + run.stderr).strip()
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    return output


def test_cli_names_an_unreachable_database_in_one_line(tmp_path):
    run = sonod("migrate", tmp_path=tmp_path, SONOD_DATABASE_URL="postgresql://nobody@127.0.0.1:1/x")

    assert run.returncode != 0
    line = one_clear_line(run)
    assert "postgresql://nobody@127.0.0.1:1/x" in line


def test_cli_masks_the_database_password(tmp_path):
    run = sonod("migrate", tmp_path=tmp_path, SONOD_DATABASE_URL="postgresql://nobody:hunter2@127.0.0.1:1/x")

    assert run.returncode != 0
    line = one_clear_line(run)
    assert "hunter2" not in line
    assert "nobody:***@127.0.0.1:1/x" in line


def test_cli_refuses_a_database_url_of_another_kind(tmp_path):
    run = sonod("migrate", tmp_path=tmp_path, SONOD_DATABASE_URL="mysql://root:hunter2@localhost/sonod")

    assert run.returncode == 2
    line = one_clear_line(run)
    assert "SONOD_DATABASE_URL" in line
    assert "hunter2" not in line


def test_cli_names_default_secrets_outside_dev_mode(tmp_path):
    run = sonod("migrate", tmp_path=tmp_path, SONOD_DEV_MODE="false")

    assert run.returncode == 2
    line = one_clear_line(run)
    assert "SONOD_SECRET_KEY" in line and "SONOD_MASTER_KEY" in line


def test_cli_names_a_malformed_setting(tmp_path):
    run = sonod("seed", tmp_path=tmp_path, SONOD_API_PORT="eighty")

    assert run.returncode == 2
    assert "SONOD_API_PORT" in one_clear_line(run)


def test_cli_help_needs_no_valid_settings(tmp_path):
    run = sonod("--help", tmp_path=tmp_path, SONOD_DEV_MODE="false")

    assert run.returncode == 0
    for command in ("migrate", "seed", "worker", "api", "porichoy", "dev"):
        assert command in run.stdout
