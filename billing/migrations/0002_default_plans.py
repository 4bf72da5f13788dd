"""Create the default plans of SPEC 5 (the data is copied here, as migrations must be)."""

from django.db import migrations

PAID_MODES = ["basic", "deep", "auto"]
PLANS = [
    # slug, name, credits/month, requests/minute, requests/day, modes, max regenerations
    ("free", "Free", 100, 10, 100, ["basic"], 3),
    ("pro", "Pro", 1_000, 60, 5_000, PAID_MODES, 5),
    ("business", "Business", 10_000, 300, 50_000, PAID_MODES, 5),
    # Enterprise is custom: generous starting figures, edited per contract in the admin.
    ("enterprise", "Enterprise", 100_000, 1_000, 1_000_000, PAID_MODES, 5),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for slug, name, credits, per_minute, per_day, modes, regenerations in PLANS:
        Plan.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "credits_per_month": credits,
                "requests_per_minute": per_minute,
                "requests_per_day": per_day,
                "allowed_modes": modes,
                "max_regenerations": regenerations,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
