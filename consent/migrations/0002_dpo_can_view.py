"""The DPO group may read consent records, wording versions and the opposition list.
Nobody adds, changes or deletes them in the admin: they are proof (REQUIREMENTS B12, C4, B11).
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_consentrecord", "view_consenttext", "view_oppositionentry"]


def grant_view(apps, schema_editor):
    # Permissions are normally created after migrate (post_migrate): create them now.
    app_config = apps.get_app_config("consent")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="DPO")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="consent", codename__in=CODENAMES)
    )


def revoke_view(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="DPO").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="consent"))


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0001_initial"),
        ("people", "0002_dpo_group"),
    ]

    operations = [migrations.RunPython(grant_view, revoke_view)]
