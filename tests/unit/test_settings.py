"""Settings come from VOX_* variables, and each one is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxnumbers.settings import Settings, SettingsError, settings_documentation

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    text = README.read_text()
    missing = [name for name, _, _ in settings_documentation() if f"| `{name}` |" not in text]
    assert missing == []


def test_values_are_read_and_typed_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "VOX_PORT": "9001",
            "VOX_COOLING_OFF_DAYS": "7",
            "VOX_DB_POOL_TIMEOUT_SECONDS": "2.5",
            "VOX_RUN_WORKER": "false",
        }
    )
    assert (settings.port, settings.cooling_off_days) == (9001, 7)
    assert settings.db_pool_timeout_seconds == 2.5
    assert settings.run_worker is False


@pytest.mark.parametrize(
    ("name", "value"),
    [("VOX_PORT", "eighty"), ("VOX_RUN_WORKER", "maybe"), ("VOX_DB_POOL_SIZE", "1.5")],
)
def test_a_bad_value_is_a_clear_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("", "sqlite+aiosqlite:///var/voxnumbers.sqlite3"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ],
)
def test_database_urls_name_the_async_driver(url: str, driver: str) -> None:
    assert Settings(database_url=url).resolved_database_url == driver


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VOX_PORT", "0"),
        ("VOX_PORT", "70000"),
        ("VOX_MAX_BODY_BYTES", "-5"),
        ("VOX_WORKERS", "0"),
        ("VOX_COOLING_OFF_DAYS", "-1"),
        ("VOX_LOG_LEVEL", "loud"),
    ],
)
def test_a_value_out_of_range_is_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
