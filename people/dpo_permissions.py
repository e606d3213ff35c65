"""The DPO group, and the data migrations that give it permissions, app by app.

Each app grants the group what the DPO may do with its models in its own migrations:

    operations = [grant_to_dpo("consent", "view_consentrecord", "view_consenttext")]

This module imports no model, so a migration can import it whatever the models become.
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import QuerySet

# The staff group that handles data protection: the admin, the register, the requests.
DPO_GROUP = "DPO"


def dpo_members() -> QuerySet:
    """The active staff members of the DPO group: whom a request may be assigned to, who
    receives the deadline digest. (The user model is looked up when called: migrations
    import this module.)"""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=DPO_GROUP)
        .distinct()
    )


def grant_to_dpo(app_label: str, *codenames: str) -> migrations.RunPython:
    """An operation giving the DPO group these permissions of `app_label` (created first if
    needed); reversed, it takes them back."""
    return migrations.RunPython(
        partial(_grant, app_label=app_label, codenames=codenames),
        partial(_revoke, app_label=app_label, codenames=codenames),
    )


def codenames(permissions: dict[str, list[str]]) -> list[str]:
    """{"legalhold": ["view", "add"]} -> ["view_legalhold", "add_legalhold"]."""
    return [f"{action}_{model}" for model, actions in permissions.items() for action in actions]


def _permissions(apps, app_label: str, codenames: tuple[str, ...]):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


def _grant(apps, schema_editor, *, app_label: str, codenames: tuple[str, ...]) -> None:
    # Permissions are normally created after migrate (post_migrate): create them now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=DPO_GROUP)
    group.permissions.add(*_permissions(apps, app_label, codenames))


def _revoke(apps, schema_editor, *, app_label: str, codenames: tuple[str, ...]) -> None:
    group = apps.get_model("auth", "Group").objects.filter(name=DPO_GROUP).first()
    if group:
        group.permissions.remove(*_permissions(apps, app_label, codenames))
