"""The DPO group may read the audit log. Nobody may add, change or delete in it."""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import grant_to_dpo


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_trigger"),
        ("people", "0002_dpo_group"),
    ]

    operations = [grant_to_dpo("audit", "view_auditevent")]
