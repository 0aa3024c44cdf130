"""Configuration is read once, validated, and a bad value names its variable in one line."""

from __future__ import annotations

import pytest

from identity.config import Settings, config_table
from identity.errors import ConfigError


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IDENTITY_ISSUER": "not a url"}, "IDENTITY_ISSUER: must be an http(s) URL"),
        (
            {"IDENTITY_ACCESS_TOKEN_TTL": "soon"},
            "IDENTITY_ACCESS_TOKEN_TTL: must be a whole number",
        ),
        ({"IDENTITY_KEY_SIZE": "1024"}, "IDENTITY_KEY_SIZE: must be at least 2048"),
        (
            {"DATABASE_URL": "mysql://x"},
            "DATABASE_URL: must be a sqlite:/// or postgresql+psycopg:// URL",
        ),
        ({"REDIS_URL": "http://x"}, "REDIS_URL: must be a redis:// URL"),
        ({"IDENTITY_COOKIE_SECURE": "maybe"}, "IDENTITY_COOKIE_SECURE: must be true or false"),
        ({"IDENTITY_ALLOWED_ORIGINS": "https://a.example/path"}, "IDENTITY_ALLOWED_ORIGINS:"),
        ({"IDENTITY_KEY_PASSPHRASE": "short"}, "IDENTITY_KEY_PASSPHRASE: must be at least 16"),
    ],
)
def test_bad_variable_is_one_line_naming_it(env: dict[str, str], message: str) -> None:
    """Every invalid value raises ConfigError whose text starts with the variable name."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_mapping(env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_missing_secret_fails_closed() -> None:
    """No default secrets: start-up refuses to run without them."""
    settings = Settings.from_mapping({})
    with pytest.raises(ConfigError, match="IDENTITY_KEY_PASSPHRASE: required"):
        settings.require_secrets()


def test_defaults_and_derived_values() -> None:
    settings = Settings.from_mapping({"IDENTITY_ISSUER": "https://id.example/"})
    assert settings.issuer == "https://id.example"
    assert settings.access_audience == "https://id.example/api"
    assert settings.customer_audience == "https://id.example/customer"
    assert settings.customer_token_ttl == 900 and settings.inbox_token_ttl == 3600
    assert settings.database_url.startswith("sqlite:///")


def test_repr_hides_secrets() -> None:
    settings = Settings.from_mapping({"IDENTITY_SECRET_KEY": "s" * 40})
    assert "s" * 40 not in repr(settings)


def test_config_table_lists_every_variable() -> None:
    table = config_table()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "IDENTITY_ISSUER",
        "IDENTITY_KEYS_DIR",
        "IDENTITY_KEY_PASSPHRASE",
    ):
        assert f"`{name}`" in table


def test_config_doc_needs_no_secrets_and_the_docs_page_is_its_output() -> None:
    """`identity config-doc` runs on a bare environment; docs/configuration.md holds its table."""
    import subprocess
    import sys
    from pathlib import Path

    from identity.config import variables

    out = subprocess.run(
        [str(Path(sys.executable).parent / "identity"), "config-doc"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for var in variables():
        assert f"`{var.env}`" in out.stdout
    # The page carries the generated table verbatim: regenerate it with `identity config-doc`.
    assert out.stdout.strip() in page, "docs/configuration.md: paste `identity config-doc` output"
