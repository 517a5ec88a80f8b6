from django.db import migrations

from clinic.users.roles import sync_role_groups


class Migration(migrations.Migration):
    """Create the four role groups with their permissions (see clinic/users/roles.py)."""

    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("patients", "0001_initial"),
        ("scheduling", "0001_initial"),
    ]
    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
