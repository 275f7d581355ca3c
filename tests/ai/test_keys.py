"""API keys: the system keyring or ``OPENAI_API_KEY``, never a file, never shown whole."""

from __future__ import annotations

import json

import keyring
import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyrings import MemoryKeyring

from coauthor.ai import keys
from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.ai.keys import KeyringUnavailable
from coauthor.ai.prompts import Mode, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate
from coauthor.core.generation import Outcome

SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


def test_set_and_get_round_trip(memory_keyring: MemoryKeyring) -> None:
    keys.set_key("openai", SECRET)
    assert keys.get_key("openai") == (SECRET, "keyring")
    assert memory_keyring.keys == {(keys.SERVICE, "openai"): SECRET}
    keys.set_key("compatible:http://localhost:11434/v1", "local-key-123")
    assert keys.get_key("compatible:http://localhost:11434/v1") == ("local-key-123", "keyring")
    keys.delete_key("openai")
    assert keys.get_key("openai") == (None, "none")
    keys.delete_key("openai")  # deleting what is not there is fine


def test_keyring_status_names_the_backend(memory_keyring: MemoryKeyring) -> None:
    ok, message = keys.keyring_status()
    assert ok is True
    assert "MemoryKeyring" in message


def test_environment_key_when_the_keyring_has_none(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    assert keys.get_key("openai") == ("sk-from-the-environment", "environment")
    # Only for OpenAI: a compatible server's key is not OpenAI's.
    assert keys.get_key("compatible:http://localhost:8080/v1") == (None, "none")
    # The keyring wins when it has one.
    keys.set_key("openai", SECRET)
    assert keys.get_key("openai") == (SECRET, "keyring")


def test_environment_key_without_any_keyring(
    no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    assert keys.get_key("openai") == ("sk-from-the-environment", "environment")


def test_no_keyring_refuses_to_store_and_offers_the_variable(no_keyring: None) -> None:
    with pytest.raises(KeyringUnavailable) as caught:
        keys.set_key("openai", SECRET)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert SECRET not in str(caught.value)
    ok, message = keys.keyring_status()
    assert ok is False
    assert "OPENAI_API_KEY" in message
    assert keys.get_key("openai") == (None, "none")


def test_a_broken_keyring_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("dbus said no")

    previous = keyring.get_keyring()
    keyring.set_keyring(Broken())
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        assert keys.get_key("openai") == ("sk-env", "environment")
    finally:
        keyring.set_keyring(previous)


def test_mask_examples() -> None:
    assert keys.mask(None) == ""
    assert keys.mask("") == ""
    assert keys.mask("short") == "••••••••"
    assert keys.mask(SECRET) == "sk-…6789"


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), max_size=200))
def test_mask_never_shows_more_than_seven_characters(key: str) -> None:
    shown = keys.mask(key)
    visible = shown.replace("…", "").replace("•", "")
    assert len(visible) <= 3 + 4
    if len(key) >= 12:
        assert shown == f"{key[:3]}…{key[-4:]}"
        assert key[3:-4] not in shown
    else:
        assert visible == ""


def test_settings_never_hold_the_key(memory_keyring: MemoryKeyring) -> None:
    for kind in ProviderKind:
        config = ProviderConfig(kind=kind, base_url="http://localhost:11434/v1", model="m")
        keys.set_key(config.key_account, SECRET)
        data = config.to_dict()
        assert SECRET not in json.dumps(data)
        assert not {"key", "api_key", "secret", "password"} & set(data)
        assert ProviderConfig.from_dict(data) == config


def test_openai_without_a_key_is_a_sentence(memory_keyring: MemoryKeyring) -> None:
    providers = Providers(ProviderConfig(kind=ProviderKind.OPENAI))
    with pytest.raises(ProviderError) as caught:
        providers.client()
    error = caught.value
    assert error.kind is FailureKind.NO_KEY
    assert error.opens_settings is True
    assert "OPENAI_API_KEY" in str(error)
    assert str(error)[0].isupper()
    assert str(error).endswith(".")
    run = generate(
        providers,
        build_request(Mode.CONTINUE, before="Text."),
        new_id=lambda: "g1",
        clock=lambda: 0,
    )
    assert run.error is not None
    assert run.error.kind is FailureKind.NO_KEY
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert record.provider == "openai"
    assert "No OpenAI key" in record.error


def test_openai_with_a_key_makes_a_client(memory_keyring: MemoryKeyring) -> None:
    keys.set_key("openai", SECRET)
    client = Providers(ProviderConfig(kind=ProviderKind.OPENAI)).client()
    try:
        assert client.base_url == "https://api.openai.com/v1"
        assert client.model == "gpt-4o-mini"
    finally:
        client.close()
