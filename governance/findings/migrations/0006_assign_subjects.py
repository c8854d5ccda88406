"""Existing data gets subjects: every finished scan run the subject it looked at (from what
it recorded), every finding one occurrence in the subject of the scan that last saw it."""

import hashlib

from django.db import migrations

from governance.evidence.families import tool_family

BATCH = 5000


def _key(kind, version_id, digest, target, environment):
    text = "\x1f".join([kind, str(version_id or ""), digest, target, environment])
    return hashlib.sha256(text.encode()).hexdigest()


def _subject_fields(run, digest):
    meta = run.metadata if isinstance(run.metadata, dict) else {}
    if run.category in ("model_file", "model_code") and digest:
        return "artifact", digest, "", ""
    if run.category == "runtime":
        env = str(meta.get("deployment") or run.environment or "")[:60]
        return "deployment", "", "", env
    target = meta.get("ArtifactName") or meta.get("target") or ""
    return "target", "", str(target)[:500], ""


def forwards(apps, schema_editor):
    ScanRun = apps.get_model("evidence", "ScanRun")
    ScanSubject = apps.get_model("evidence", "ScanSubject")
    Finding = apps.get_model("findings", "Finding")
    FindingEvent = apps.get_model("findings", "FindingEvent")
    Occurrence = apps.get_model("findings", "FindingOccurrence")
    ModelVersion = apps.get_model("inventory", "ModelVersion")

    digests = dict(ModelVersion.objects.values_list("id", "artifact_sha256"))
    subjects = {}  # (model_id, key) -> subject id
    run_subject = {}  # run id -> (subject id, family)
    for run in ScanRun.objects.order_by("id").iterator(chunk_size=BATCH):
        kind, digest, target, env = _subject_fields(run, digests.get(run.version_id, ""))
        key = _key(kind, run.version_id, digest, target, env)
        sid = subjects.get((run.model_id, key))
        if sid is None:
            sid = ScanSubject.objects.create(
                team_id=run.team_id, model_id=run.model_id, kind=kind, version_id=run.version_id,
                artifact_sha256=digest, target=target, environment=env, key=key,
            ).pk  # fmt: skip
            subjects[(run.model_id, key)] = sid
        family = tool_family(run.tool or run.scan_type)
        run_subject[run.pk] = (sid, family)
        ScanRun.objects.filter(pk=run.pk).update(
            subject_id=sid, tool_family=family, complete=run.category != "runtime"
        )

    # How resolved findings were closed: by a scan ("scan:<id>") or by a person.
    by_scan = set(
        FindingEvent.objects.filter(kind="status", to_value="resolved", actor_label__startswith="scan:")
        .values_list("finding_id", flat=True)
    )  # fmt: skip
    fallback = {}  # model id -> a model-wide subject for findings without a scan
    rows = []
    for f in Finding.objects.order_by("id").iterator(chunk_size=BATCH):
        found = run_subject.get(f.last_scan_id)
        if found is None:
            sid = fallback.get(f.model_id)
            if sid is None:
                key = _key("target", None, "", "", "")
                sid = subjects.get((f.model_id, key))
                if sid is None:
                    sid = ScanSubject.objects.create(
                        team_id=f.team_id, model_id=f.model_id, kind="target", key=key
                    ).pk
                    subjects[(f.model_id, key)] = sid
                fallback[f.model_id] = sid
            found = (sid, tool_family(f.tool))
        sid, family = found
        resolved = f.status == "resolved"
        rows.append(Occurrence(
            finding_id=f.pk, subject_id=sid, tool_family=family,
            state="fixed" if resolved else "active", first_seen=f.first_seen,
            last_seen=f.last_seen, first_scan_id=f.first_scan_id, last_scan_id=f.last_scan_id,
            closed_at=f.resolved_at if resolved else None,
        ))  # fmt: skip
        if resolved:
            Finding.objects.filter(pk=f.pk).update(
                resolution="fixed" if f.pk in by_scan else "closed"
            )
        if len(rows) >= BATCH:
            Occurrence.objects.bulk_create(rows)
            rows = []
    Occurrence.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0005_occurrences"),
        ("evidence", "0002_scan_subjects"),
        ("inventory", "0002_names_case_insensitive_version_retired"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
