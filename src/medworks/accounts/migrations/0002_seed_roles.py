"""Seed the SOP's roles and the MedWorks operator organisation."""

from django.db import migrations

ROLES = [
    ("booking_agent", "Booking agent (Core Booking Team)"),
    ("booking_coordinator", "Corporate booking coordinator"),
    ("clinic_manager", "Clinic manager"),
    ("sales_manager", "Sales manager"),
    ("director_of_operations", "Director of operations"),
    ("senior_manager", "Senior manager"),
    ("chief_of_staff", "Chief of staff"),
    ("ceo", "CEO"),
    ("finance", "Finance"),
    ("insurer_user", "Insurance partner user"),
    ("clinic_user", "Clinic user"),
]


def seed(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Organisation = apps.get_model("accounts", "Organisation")
    for code, name in ROLES:
        Role.objects.update_or_create(code=code, defaults={"name": name})
    Organisation.objects.get_or_create(name="MedWorks", defaults={"kind": "operator"})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
