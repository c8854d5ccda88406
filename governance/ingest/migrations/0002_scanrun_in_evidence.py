import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """ScanRun and CheckResult now live in the evidence app (same tables: state only)."""

    dependencies = [
        ("ingest", "0001_initial"),
        ("evidence", "0001_initial"),
        ("findings", "0003_scanrun_in_evidence"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reportupload",
                    name="scan_run",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="upload",
                        to="evidence.scanrun",
                    ),
                ),
                migrations.DeleteModel(name="CheckResult"),
                migrations.DeleteModel(name="ScanRun"),
            ],
            database_operations=[],
        ),
    ]
