"""The DPO group may read what fulfilment produced: exports, recipient notifications, the
erasure ledger, restrictions and objection decisions. Nobody writes them in the admin: the
request's actions do.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["export", "recipientnotification", "erasureledger", "restriction", "objectiondecision"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("rights")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="DPO")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rights", codename__in=[f"view_{m}" for m in MODELS]
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="DPO").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="rights", codename__in=[f"view_{m}" for m in MODELS]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0006_recipientnotification_attempts"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
