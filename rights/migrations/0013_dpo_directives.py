"""The DPO group finds post-mortem directives and records how they were carried out (B14)."""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import grant_to_dpo


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0012_post_mortem_directive"),
    ]

    operations = [
        grant_to_dpo("rights", "view_postmortemdirective", "change_postmortemdirective")
    ]
