"""event_id unique per source, not globally; sources long enough for "user:<username>".

The new constraint is built before the old one goes, and a new permission,
spend.add_adjustment, guards adjustments.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0003_memberships_and_setting_changes"),
        ("campaigns", "0002_campaign_budget_same_brand"),
        ("spend", "0009_alert_delivery_and_ticks"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="spendevent",
            options={
                "ordering": ["-occurred_at", "-id"],
                "permissions": [
                    ("add_adjustment", "Can record adjustments and spend dated before last month")
                ],
            },
        ),
        migrations.AlterField(
            model_name="spendevent",
            name="source",
            field=models.CharField(default="system", max_length=160),
        ),
        migrations.AddConstraint(
            model_name="spendevent",
            constraint=models.UniqueConstraint(
                fields=("source", "event_id"), name="spend_source_event_id_unique"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="spendevent",
            name="spend_event_id_unique",
        ),
    ]
