"""The Redis password is its own setting, kept out of the URL and put into it for the client only;
any setting may come from a Docker secret file named like its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from robovox.shared.settings import ServiceSettings


def test_the_password_goes_into_the_address_only() -> None:
    settings = ServiceSettings(redis_url="redis://127.0.0.1:6390/0", redis_password="p@ss:word/1")
    assert settings.redis_url == "redis://127.0.0.1:6390/0"
    assert settings.redis_address == "redis://:p%40ss%3Aword%2F1@127.0.0.1:6390/0"
    assert "p@ss" not in repr(settings)


def test_the_password_replaces_one_in_the_url_and_keeps_its_user() -> None:
    settings = ServiceSettings(redis_url="rediss://robovox:old@redis.local:6380/2", redis_password="new")
    assert settings.redis_address == "rediss://robovox:new@redis.local:6380/2"


def test_without_a_password_the_url_is_used_as_it_is() -> None:
    assert ServiceSettings(redis_url="redis://:inline@host:1/0").redis_address == "redis://:inline@host:1/0"


def test_a_secret_file_gives_a_setting_and_a_variable_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "robovox_redis_password").write_text("from-the-secret\n")
    monkeypatch.delenv("ROBOVOX_REDIS_PASSWORD", raising=False)
    from_file = ServiceSettings(_secrets_dir=tmp_path)  # type: ignore[call-arg]
    assert from_file.redis_password.get_secret_value() == "from-the-secret"
    monkeypatch.setenv("ROBOVOX_REDIS_PASSWORD", "from-the-environment")
    assert ServiceSettings(_secrets_dir=tmp_path).redis_password.get_secret_value() == "from-the-environment"  # type: ignore[call-arg]
