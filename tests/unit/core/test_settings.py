"""Settings come from the environment only, with the embedded local defaults."""

from __future__ import annotations

import pydantic
import pytest

from functions.core.settings import REPO_ROOT, Settings

VARIABLES = [
    "K_SERVICE",
    "PIC_SERVICE_NAME",
    "PIC_DYNAMODB_ENDPOINT",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "K_SINK",
    "PIC_POLICY_ENGINE",
    "PIC_OUTBOX_SHARDS",
    "PIC_POLICIES_DIR",
    "PIC_POLICY_BUNDLE_URL",
    "PIC_POLICY_BUNDLE_PUBLIC_KEY",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_are_the_embedded_local_ones() -> None:
    settings = Settings.from_env()
    assert (settings.service_name, settings.policy_engine, settings.table_prefix) == ("pic", "embedded", "pic-")
    assert settings.policies_dir == REPO_ROOT / "policies" and (settings.policies_dir / "consent").is_dir()
    assert settings.dynamodb_endpoint is None and settings.k_sink is None


def test_knative_sets_the_service_name_and_the_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K_SERVICE", "pic-consent")
    monkeypatch.setenv("K_SINK", "http://broker-ingress/pic/pic")
    settings = Settings.from_env()
    assert settings.service_name == "pic-consent" and settings.k_sink == "http://broker-ingress/pic/pic"


@pytest.mark.parametrize("name", ["PIC_DYNAMODB_ENDPOINT", "K_SINK"])
def test_an_empty_variable_means_not_set(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # GIVEN a ConfigMap that carries the variable empty
    monkeypatch.setenv(name, "")
    # THEN it is unset, so the AWS default endpoint / no sink is used
    settings = Settings.from_env()
    assert settings.dynamodb_endpoint is None and settings.k_sink is None


@pytest.mark.parametrize("shards", ["0", "65"])
def test_outbox_shards_out_of_range_are_refused(monkeypatch: pytest.MonkeyPatch, shards: str) -> None:
    monkeypatch.setenv("PIC_OUTBOX_SHARDS", shards)
    with pytest.raises(pydantic.ValidationError):
        Settings.from_env()


def test_a_policy_bundle_url_without_its_public_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: a bundle nobody can verify must not be served."""
    monkeypatch.setenv("PIC_POLICY_BUNDLE_URL", "https://bundles.example.org/pic/bundle.tar.gz")
    with pytest.raises(pydantic.ValidationError, match="PIC_POLICY_BUNDLE_PUBLIC_KEY"):
        Settings.from_env()
    monkeypatch.setenv("PIC_POLICY_BUNDLE_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\n...")
    assert Settings.from_env().policy_bundle_url == "https://bundles.example.org/pic/bundle.tar.gz"
    monkeypatch.setenv("PIC_POLICY_BUNDLE_URL", "")
    assert Settings.from_env().policy_bundle_url is None  # an empty ConfigMap value means unset
