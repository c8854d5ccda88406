import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Point the scan-run foreign keys at evidence.ScanRun (same table: state only)."""

    dependencies = [
        ("findings", "0002_finding_fewer_indexes"),
        ("evidence", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="finding",
                    name="first_scan",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="evidence.scanrun",
                    ),
                ),
                migrations.AlterField(
                    model_name="finding",
                    name="last_scan",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="evidence.scanrun",
                    ),
                ),
                migrations.AlterField(
                    model_name="findingevent",
                    name="scan_run",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="evidence.scanrun",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
