"""Each policy enforces the period the inventory declares, read from the same place (B15),
and the README lists every policy with its settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from people import inventory
from retention import sweeps
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
# Dated rules no policy enforces yet, and why (a test fails when one appears unlisted).
NOT_YET_ENFORCED: dict[str, str] = {}


MONTHS_SETTING = r"RETENTION_MONTHS\['(\w+)'\]"


class Recording(dict):
    """settings.RETENTION_MONTHS that remembers which periods were read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> int:
        self.read.add(key)
        return super().__getitem__(key)


def _declared_keys(policy: sweeps.Policy) -> set[str]:
    return {inventory.retention_for(*enforced).setting_key for enforced in policy.enforces}


@pytest.mark.parametrize("name", sorted(sweeps.POLICIES))
def test_each_policy_reads_exactly_the_periods_the_inventory_declares(name, db, settings):
    policy = sweeps.POLICIES[name]
    settings.RETENTION_MONTHS = Recording(settings.RETENTION_MONTHS)

    policy.sweep(now=NOW, dry_run=True)

    assert settings.RETENTION_MONTHS.read == _declared_keys(policy)
    listed = {re.fullmatch(MONTHS_SETTING, s) for s in policy.settings} - {None}
    listed = {match.group(1) for match in listed}
    assert listed == _declared_keys(policy), "Policy.settings lists what the README shows"


def test_each_period_the_inventory_dates_is_enforced_by_a_policy():
    enforced = set().union(*(_declared_keys(p) for p in sweeps.POLICIES.values()))
    assert inventory.retention_keys() - enforced == set(NOT_YET_ENFORCED)


def test_a_policy_follows_the_inventory_when_the_period_changes(settings, make_trace):
    from datetime import timedelta

    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "technical_traces": 2}
    make_trace(seen_at=NOW - timedelta(days=70))
    rule = inventory.retention_for("people.TechnicalTrace", "seen_at")
    assert rule.months == 2
    assert sweeps.purge_technical_traces(now=NOW).affected == 1


def test_it_refuses_a_rule_the_inventory_does_not_declare():
    with pytest.raises(LookupError):
        inventory.retention_for("people.Person", "email")  # two dated rules: name one
    with pytest.raises(LookupError):
        inventory.retention_for("people.Person", "email", "accounting")


def _env_names() -> dict[str, str]:
    """RETENTION_MONTHS key -> its environment variable, from settings.py."""
    source = (ROOT / "okasio_privacy" / "settings.py").read_text()
    return dict(re.findall(r'"(\w+)": env\.int\("(RETENTION_\w+)"', source))


def test_the_readme_lists_every_policy_with_its_settings_and_schedule():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Retention policies") :]
    section = section[: section.index("\n### ", 5)]
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", section, re.MULTILINE)
    }
    env = _env_names()
    for name, policy in sweeps.POLICIES.items():
        assert name in rows, f"README: no row for the policy {name}"
        for setting in policy.settings:
            key = re.fullmatch(MONTHS_SETTING, setting)
            variable = env[key.group(1)] if key else setting
            assert f"`{variable}`" in rows[name], f"README: {name} does not name {variable}"
        assert "UTC" in rows[name].rsplit("|", 2)[-2], f"README: {name} has no schedule"
