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


def test_settings_fields_are_typed_per_variable() -> None:
    """Every variable is a typed field of the same name; there is no dict behind them."""
    import dataclasses

    from identity.config import variables

    settings = Settings.from_mapping({"IDENTITY_ACCESS_TOKEN_TTL": "120"})
    assert {f.name for f in dataclasses.fields(Settings)} == {v.attr for v in variables()}
    assert settings.access_token_ttl == 120
    assert not hasattr(settings, "values")
    with pytest.raises(AttributeError):
        settings.no_such_setting  # type: ignore[attr-defined]  # noqa: B018


def test_overrides_by_attribute_name_and_derived_values_follow() -> None:
    """Overrides use attribute names and apply before derivation (the audience follows issuer)."""
    settings = Settings.from_mapping({}, {"issuer": "https://o.example", "access_token_ttl": 90})
    assert settings.access_token_ttl == 90
    assert settings.access_audience == "https://o.example/api"
    assert settings.replace(access_token_ttl=60).access_token_ttl == 60


@pytest.mark.parametrize("name", ["access_ttl", "ISSUER", "values"])
def test_unknown_override_is_a_clear_error(name: str) -> None:
    """A misspelt override names itself instead of being silently ignored."""
    with pytest.raises(ConfigError, match=f"^{name}: not a setting"):
        Settings.from_mapping({}, {name: 1})
    with pytest.raises(ConfigError, match=f"^{name}: not a setting"):
        Settings.from_mapping({}).replace(**{name: 1})


def test_unknown_override_suggests_the_near_name() -> None:
    with pytest.raises(ConfigError, match="did you mean 'access_token_ttl'"):
        Settings.from_mapping({}, {"access_token_tll": 60})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"access_token_ttl": "60"}, "access_token_ttl: must be int, not str"),
        ({"cookie_secure": 1}, "cookie_secure: must be bool, not int"),
        ({"key_size": True}, "key_size: must be int, not bool"),
        ({"encryption_keys": ["k"]}, "encryption_keys: must be a tuple of str, not list"),
        ({"secret_key": b"s" * 40}, "secret_key: must be str, not bytes"),
    ],
)
def test_override_of_the_wrong_type_is_refused(overrides: dict[str, object], message: str) -> None:
    """Overrides skip the parsers, so their type is checked; the value itself is never shown."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_mapping({}, overrides)
    assert str(caught.value) == message


def test_int_is_accepted_where_a_float_is_expected() -> None:
    assert Settings.from_mapping({}, {"broker_lock_timeout": 2}).broker_lock_timeout == 2


def test_empty_secret_variable_counts_as_unset() -> None:
    """IDENTITY_SECRET_KEY= (empty) is missing, not too short: require_secrets names it."""
    env = {"IDENTITY_KEY_PASSPHRASE": "p" * 20, "IDENTITY_SECRET_KEY": ""}
    settings = Settings.from_mapping(env)
    assert settings.secret_key == ""
    with pytest.raises(ConfigError, match="^IDENTITY_SECRET_KEY: required"):
        settings.require_secrets()


def test_a_field_declared_without_setting_fails_the_check() -> None:
    """A field without its variable (name, default, parser, docs line) is caught at import."""
    import dataclasses

    from identity.config import declared_variables

    extended = dataclasses.make_dataclass(
        "Extended", [("orphan", int)], bases=(Settings,), frozen=True
    )
    with pytest.raises(TypeError, match=r"^Extended\.orphan: declare it with setting"):
        declared_variables(extended)


@pytest.mark.parametrize(
    ("default", "message"),
    [
        ("3", "IDENTITY_NEW_SIZE: default must be int, not str"),
        (None, "IDENTITY_NEW_SIZE: default None, but _derive does not compute it"),
    ],
)
def test_a_default_of_the_wrong_type_fails_the_check(default: object, message: str) -> None:
    import dataclasses

    from identity.config import declared_variables, setting

    field = setting("IDENTITY_NEW_SIZE", default, int, "a new setting")
    declared = dataclasses.make_dataclass("New", [("new_size", int, field)], frozen=True)
    with pytest.raises(TypeError, match=f"^{message}"):
        declared_variables(declared)


def test_each_setting_is_declared_once_on_its_field() -> None:
    """The variable table is derived from the fields, in their order, names matching."""
    import dataclasses

    from identity.config import variables

    table = variables()
    assert [v.attr for v in table] == [f.name for f in dataclasses.fields(Settings)]
    assert len({v.env for v in table}) == len(table)
    by_attr = {v.attr: v for v in table}
    assert by_attr["access_token_ttl"].env == "IDENTITY_ACCESS_TOKEN_TTL"
    assert by_attr["access_token_ttl"].default == 3600
    assert by_attr["secret_key"].secret and by_attr["secret_key"].generated


def test_create_app_refuses_an_unknown_override() -> None:
    """create_app({...}) overrides by attribute name; a misspelt one fails before any wiring."""
    from identity.app import create_app

    with pytest.raises(ConfigError, match="^acess_token_ttl: not a setting"):
        create_app({"acess_token_ttl": 60})
