"""The DPO group reads the sweep ledger and re-permissions, and places and lifts legal holds."""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import codenames, grant_to_dpo

DPO_PERMISSIONS = {
    "sweeprun": ["view"],
    "repermission": ["view"],
    "legalhold": ["view", "add", "change"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
        ("people", "0002_dpo_group"),
    ]

    operations = [grant_to_dpo("retention", *codenames(DPO_PERMISSIONS))]
