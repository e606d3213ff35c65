"""The DPO group and what it may do on the people models.

Later apps grant the group their own permissions in their own migrations.
"""

from __future__ import annotations

from django.db import migrations

from people.dpo_permissions import codenames, grant_to_dpo

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


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [grant_to_dpo("people", *codenames(DPO_PERMISSIONS))]
