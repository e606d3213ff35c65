"""The DPO group may read requests and their outbox, and log a request received by email or
post. Nobody changes or deletes requests in the admin: status changes are model methods.
"""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import codenames, grant_to_dpo

DPO_PERMISSIONS = {
    "datasubjectrequest": ["view", "add"],
    "requeststep": ["view"],
    "requestpause": ["view"],
    "outgoingemail": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0001_initial"),
        ("people", "0002_dpo_group"),
    ]

    operations = [grant_to_dpo("rights", *codenames(DPO_PERMISSIONS))]
