"""A fourth serving fact, `pacing_hold` (standard delivery), and the derived state over it.

PostgreSQL (before version 17) cannot change a generated column's
expression, so `status` and `pause_reason` are dropped and added again with
the new precedence (manual > schedule > budget > pacing); they are computed
from the facts, so nothing is lost. The statements are written out rather
than left to Django, because on SQLite Django would rebuild the table, and
the triggers of the same-brand rule (campaigns 0002) and of the ledger
(spend 0007) on it would go with the old table. SQLite adds a generated
column only as VIRTUAL (computed when read), which is the same state.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

STATUS = """CASE WHEN enabled AND schedule_hold IS NULL AND budget_hold IS NULL
    AND {pacing} THEN 'active' ELSE 'paused' END"""
REASON = """CASE WHEN NOT enabled THEN 'manual'
    WHEN schedule_hold IS NOT NULL THEN schedule_hold
    WHEN budget_hold IS NOT NULL THEN budget_hold{pacing}
    ELSE NULL END"""
PACING_HOLD = (
    "ADD COLUMN pacing_hold varchar(32) NULL CONSTRAINT campaign_pacing_hold_known "
    "CHECK (pacing_hold IS NULL OR pacing_hold IN ('brand_daily_pacing'))"
)


def _statements(vendor: str, *, with_pacing: bool) -> list[str]:
    kind = "STORED" if vendor == "postgresql" else "VIRTUAL"
    status = STATUS.format(pacing="pacing_hold IS NULL" if with_pacing else "TRUE")
    reason = REASON.format(
        pacing="\n    WHEN pacing_hold IS NOT NULL THEN pacing_hold" if with_pacing else ""
    )
    table = "ALTER TABLE campaigns_campaign"
    return [
        *([] if with_pacing else ["DROP INDEX campaign_pacing_held_idx"]),
        "DROP INDEX campaign_status_idx",
        "DROP INDEX campaign_brand_status_idx",
        f"{table} DROP COLUMN pause_reason",
        f"{table} DROP COLUMN status",
        *([f"{table} {PACING_HOLD}"] if with_pacing else [f"{table} DROP COLUMN pacing_hold"]),
        f"{table} ADD COLUMN status varchar(8) GENERATED ALWAYS AS ({status}) {kind}",
        f"{table} ADD COLUMN pause_reason varchar(32) GENERATED ALWAYS AS ({reason}) {kind}",
        "CREATE INDEX campaign_status_idx ON campaigns_campaign (status, pause_reason)",
        "CREATE INDEX campaign_brand_status_idx ON campaigns_campaign (brand_id, status)",
        *(
            [
                "CREATE INDEX campaign_pacing_held_idx ON campaigns_campaign (brand_id) "
                "WHERE pacing_hold IS NOT NULL"
            ]
            if with_pacing
            else []
        ),
    ]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in _statements(schema_editor.connection.vendor, with_pacing=True):
        schema_editor.execute(statement, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in _statements(schema_editor.connection.vendor, with_pacing=False):
        schema_editor.execute(statement, params=None)


STATE_OPERATIONS = [
    migrations.AddField(
        model_name="campaign",
        name="pacing_hold",
        field=models.CharField(
            blank=True,
            choices=[("brand_daily_pacing", "Ahead of the brand's even delivery")],
            editable=False,
            max_length=32,
            null=True,
        ),
    ),
    migrations.RemoveIndex(model_name="campaign", name="campaign_status_idx"),
    migrations.RemoveIndex(model_name="campaign", name="campaign_brand_status_idx"),
    migrations.RemoveField(model_name="campaign", name="pause_reason"),
    migrations.RemoveField(model_name="campaign", name="status"),
    migrations.AddField(
        model_name="campaign",
        name="status",
        field=models.GeneratedField(
            db_persist=True,
            expression=models.Case(
                models.When(
                    models.Q(
                        ("budget_hold__isnull", True),
                        ("enabled", True),
                        ("pacing_hold__isnull", True),
                        ("schedule_hold__isnull", True),
                    ),
                    then=models.Value("active"),
                ),
                default=models.Value("paused"),
                output_field=models.CharField(max_length=8),
            ),
            output_field=models.CharField(
                choices=[("active", "Active"), ("paused", "Paused")], max_length=8
            ),
        ),
    ),
    migrations.AddField(
        model_name="campaign",
        name="pause_reason",
        field=models.GeneratedField(
            db_persist=True,
            expression=models.Case(
                models.When(enabled=False, then=models.Value("manual")),
                models.When(schedule_hold__isnull=False, then=models.F("schedule_hold")),
                models.When(budget_hold__isnull=False, then=models.F("budget_hold")),
                models.When(pacing_hold__isnull=False, then=models.F("pacing_hold")),
                default=models.Value(None),
                output_field=models.CharField(max_length=32, null=True),
            ),
            output_field=models.CharField(
                choices=[
                    ("manual", "Paused manually"),
                    ("not_started", "Flight not started"),
                    ("ended", "Flight ended"),
                    ("outside_daypart", "Outside its dayparts"),
                    ("brand_monthly_budget", "Brand monthly budget spent"),
                    ("brand_daily_budget", "Brand daily budget spent"),
                    ("budget_monthly_limit", "Shared budget monthly limit spent"),
                    ("budget_daily_limit", "Shared budget daily limit spent"),
                    ("brand_daily_pacing", "Ahead of the brand's even delivery"),
                ],
                max_length=32,
                null=True,
            ),
        ),
    ),
    migrations.AddIndex(
        model_name="campaign",
        index=models.Index(fields=["status", "pause_reason"], name="campaign_status_idx"),
    ),
    migrations.AddIndex(
        model_name="campaign",
        index=models.Index(fields=["brand", "status"], name="campaign_brand_status_idx"),
    ),
    migrations.AddIndex(
        model_name="campaign",
        index=models.Index(
            condition=models.Q(("pacing_hold__isnull", False)),
            fields=["brand"],
            name="campaign_pacing_held_idx",
        ),
    ),
    migrations.AlterField(
        model_name="campaignstatuschange",
        name="new_reason",
        field=models.CharField(
            blank=True,
            choices=[
                ("manual", "Paused manually"),
                ("not_started", "Flight not started"),
                ("ended", "Flight ended"),
                ("outside_daypart", "Outside its dayparts"),
                ("brand_monthly_budget", "Brand monthly budget spent"),
                ("brand_daily_budget", "Brand daily budget spent"),
                ("budget_monthly_limit", "Shared budget monthly limit spent"),
                ("budget_daily_limit", "Shared budget daily limit spent"),
                ("brand_daily_pacing", "Ahead of the brand's even delivery"),
            ],
            max_length=32,
            null=True,
        ),
    ),
    migrations.AlterField(
        model_name="campaignstatuschange",
        name="old_reason",
        field=models.CharField(
            blank=True,
            choices=[
                ("manual", "Paused manually"),
                ("not_started", "Flight not started"),
                ("ended", "Flight ended"),
                ("outside_daypart", "Outside its dayparts"),
                ("brand_monthly_budget", "Brand monthly budget spent"),
                ("brand_daily_budget", "Brand daily budget spent"),
                ("budget_monthly_limit", "Shared budget monthly limit spent"),
                ("budget_daily_limit", "Shared budget daily limit spent"),
                ("brand_daily_pacing", "Ahead of the brand's even delivery"),
            ],
            max_length=32,
            null=True,
        ),
    ),
    migrations.AddConstraint(
        model_name="campaign",
        constraint=models.CheckConstraint(
            condition=models.Q(
                ("pacing_hold__isnull", True),
                ("pacing_hold__in", ["brand_daily_pacing"]),
                _connector="OR",
            ),
            name="campaign_pacing_hold_known",
        ),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0008_brand_delivery"),
        ("campaigns", "0003_archive"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=STATE_OPERATIONS,
            database_operations=[migrations.RunPython(forward, backward, elidable=False)],
        )
    ]
