"""Uploads past the limit are refused before they are read, and a queued report is stored in
bounded pieces: the web process never holds a big report whole (issue 14, item 9).

The 413 is proven from the ``Content-Length`` header alone (the body is never read: the
test's input stream fails if it is) and from the streamed size of the file part when the
header is within the form's room; tests/ops/test_upload_limit_server.py proves it against a
real gunicorn."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.test.client import MULTIPART_CONTENT

from governance.evidence.models import ScanRun
from governance.findings.models import Finding
from governance.ingest import services as ingest_services
from governance.ingest.imports import scan_run_import_queued
from governance.ingest.models import ReportUpload
from governance.inventory.models import MLModel
from tests.reportgen import trivy_report

LIMIT = 100_000


class _UnreadableBody:
    """A request body that must not be read: reading it fails the test."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read although Content-Length already said too big")

    readline = read


@pytest.mark.django_db
@override_settings(WARDEN_MAX_REPORT_BYTES=LIMIT)
def test_a_declared_body_past_the_limit_is_a_413_before_a_byte_is_read(
    api: Any, team_alpha: Any, make_token: Any
) -> None:
    client = api(make_token(team_alpha, "write"))
    declared = 1_000_000_000
    response = client.generic(
        "POST",
        "/api/v1/scans/",
        b"x",
        content_type="multipart/form-data; boundary=zzz",
        CONTENT_LENGTH=str(declared),
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == (
        f"report is {declared:,} bytes; the limit is {LIMIT:,} (WARDEN_MAX_REPORT_BYTES)"
    )
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
@override_settings(WARDEN_MAX_REPORT_BYTES=LIMIT)
def test_a_file_that_streams_past_the_limit_is_a_413_and_nothing_is_written(
    upload: Any, team_alpha: Any, make_token: Any
) -> None:
    token = make_token(team_alpha, "write")
    report = trivy_report(range(400))
    assert LIMIT < len(report) < LIMIT + 1024 * 1024  # the header alone is within the room
    response = upload(token, report)
    assert response.status_code == 413, response.content[:300]
    assert "WARDEN_MAX_REPORT_BYTES" in response.json()["error"]
    assert not ScanRun.objects.exists()
    assert not MLModel.objects.exists()

    # Just under the limit is accepted.
    small = trivy_report(range(40))
    assert len(small) < LIMIT
    assert upload(token, small).status_code == 201


@pytest.mark.django_db
@override_settings(WARDEN_MAX_REPORT_BYTES=LIMIT)
def test_a_page_form_past_the_limit_is_a_plain_413(client: Any, member: Any) -> None:
    client.force_login(member)
    response = client.post(
        "/models/",
        {"file": SimpleUploadedFile("r.json", b"x" * (LIMIT + 10))},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert "WARDEN_MAX_REPORT_BYTES" in response.content.decode()


@pytest.mark.django_db
def test_a_queued_report_is_stored_in_pieces_and_imported_whole(
    upload: Any,
    team_alpha: Any,
    make_token: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    piece = 4096
    monkeypatch.setattr(ingest_services, "REPORT_CHUNK_BYTES", piece)
    report = trivy_report(range(60))
    with django_capture_on_commit_callbacks(execute=False):  # no worker yet: look at the store
        response = upload(make_token(team_alpha, "write"), report, query="?async=1")
    assert response.status_code == 201, response.json()
    run = ScanRun.objects.get(pk=response.json()["id"])
    assert run.status == "queued"
    pieces = list(ReportUpload.objects.filter(scan_run=run).order_by("seq"))
    assert [p.seq for p in pieces] == list(range(-(-len(report) // piece)))
    assert all(len(bytes(p.data)) == piece for p in pieces[:-1])
    assert b"".join(bytes(p.data) for p in pieces) == report

    done = scan_run_import_queued(scan_run_id=run.pk)  # what the worker runs
    assert done.status == "done", done.error
    assert Finding.objects.filter(model=run.model).count() == 60
    assert not ReportUpload.objects.exists()


@pytest.mark.django_db
def test_a_queued_report_missing_a_piece_fails_with_a_reason_not_half_imported(
    upload: Any, team_alpha: Any, make_token: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    monkeypatch.setattr(ingest_services, "REPORT_CHUNK_BYTES", 4096)
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(
            make_token(team_alpha, "write"), trivy_report(range(60)), query="?async=1"
        )
    run = ScanRun.objects.get(pk=response.json()["id"])
    ReportUpload.objects.filter(scan_run=run, seq=1).delete()
    done = scan_run_import_queued(scan_run_id=run.pk)
    assert done.status == "failed"
    assert done.error == "the uploaded report is missing"
    assert not Finding.objects.exists()
