"""An index over the findings lists' default order: severity rank (most severe first), then
the nearest due date, then the newest; PostgreSQL only (SQLite has no NULLS LAST in an index).
The expression is exactly ``models.severity_rank()`` as Django writes it, so the planner reads
the first page of a million findings from the index instead of sorting them all
(tests/findings/test_search_sort.py checks the plan)."""

from django.db import migrations

INDEX = (
    "CREATE INDEX IF NOT EXISTS finding_severity_due ON findings_finding ("
    "(CASE WHEN severity = 'critical' THEN 4 WHEN severity = 'high' THEN 3 "
    "WHEN severity = 'medium' THEN 2 WHEN severity = 'low' THEN 1 "
    "WHEN severity = 'info' THEN 0 ELSE -1 END) DESC NULLS LAST, "
    "sla_due ASC NULLS LAST, id DESC)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS finding_severity_due")


class Migration(migrations.Migration):
    dependencies = [("findings", "0008_saved_views_and_search")]

    operations = [migrations.RunPython(create, drop)]
