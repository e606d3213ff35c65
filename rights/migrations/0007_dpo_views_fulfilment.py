"""The DPO group may read what fulfilment produced: exports, recipient notifications, the
erasure ledger, restrictions and objection decisions. Nobody writes them in the admin: the
request's actions do.
"""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import grant_to_dpo

MODELS = ["export", "recipientnotification", "erasureledger", "restriction", "objectiondecision"]


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0006_recipientnotification_attempts"),
    ]

    operations = [grant_to_dpo("rights", *[f"view_{model}" for model in MODELS])]
