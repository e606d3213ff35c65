"""The DPO group may read consent records, wording versions and the opposition list.
Nobody adds, changes or deletes them in the admin: they are proof (REQUIREMENTS B12, C4, B11).
"""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import grant_to_dpo

CODENAMES = ["view_consentrecord", "view_consenttext", "view_oppositionentry"]


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0001_initial"),
        ("people", "0002_dpo_group"),
    ]

    operations = [grant_to_dpo("consent", *CODENAMES)]
