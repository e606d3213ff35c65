"""The DPO group and what it may do on the people models.

Later apps grant the group their own permissions in their own migrations.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

# The DPO reads everything, rectifies what people ask to correct, and logs a contact
# request received by post or e-mail. Deletion goes through the erasure workflow, never
# the admin's delete button.
DPO_PERMISSIONS = {
    "person": ["view", "change"],
    "purchase": ["view"],
    "savedcard": ["view"],
    "review": ["view", "change"],
    "contactrequest": ["view", "change", "add"],
    "activity": ["view", "change"],
    "activityparticipation": ["view"],
    "technicaltrace": ["view"],
}


def create_dpo_group(apps, schema_editor):
    # Permissions are normally created after migrate (post_migrate): create them now
    # so the group can be given them in this migration.
    app_config = apps.get_app_config("people")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="DPO")
    codenames = [
        f"{action}_{model}" for model, actions in DPO_PERMISSIONS.items() for action in actions
    ]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="people", codename__in=codenames)
    )


def remove_dpo_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="DPO").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="people")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_dpo_group, remove_dpo_permissions)]
