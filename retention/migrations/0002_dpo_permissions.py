"""The DPO group reads the sweep ledger and re-permissions, and places and lifts legal holds."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

DPO_PERMISSIONS = {
    "sweeprun": ["view"],
    "repermission": ["view"],
    "legalhold": ["view", "add", "change"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after migrate (post_migrate): create them now.
    app_config = apps.get_app_config("retention")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="DPO")
    codenames = [f"{a}_{model}" for model, actions in DPO_PERMISSIONS.items() for a in actions]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="retention", codename__in=codenames)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="DPO").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="retention"))


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
        ("people", "0002_dpo_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
