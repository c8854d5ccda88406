"""Request bodies bigger than Warden accepts are refused before they are read.

A 1 GB upload used to be read in full (and spooled to disk) before the view said 413. Now:

- :class:`RequestSizeLimitMiddleware` answers 413 from the ``Content-Length`` header alone,
  before a byte of the body is read, when it passes the largest report accepted
  (``WARDEN_MAX_REPORT_BYTES``) plus room for the form's other fields;
- :class:`ReportSizeUploadHandler` (first of ``FILE_UPLOAD_HANDLERS``) counts an uploaded
  file's bytes as they stream in and stops at the limit itself, so a body whose header is
  within the room still cannot deliver a bigger file.

Bodies without a file (JSON, forms) are bounded by Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import APIException

#: Bytes a multipart body may carry beyond the report: boundaries, headers and the other
#: fields (model, version, commit, …), which Django bounds separately.
FORM_ROOM_BYTES = 1024 * 1024


class ReportTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


def _too_large(size: int | None = None) -> str:
    limit = settings.WARDEN_MAX_REPORT_BYTES
    said = f"report is {size:,} bytes; " if size is not None else "report is larger; "
    return f"{said}the limit is {limit:,} (WARDEN_MAX_REPORT_BYTES)"


class ReportSizeUploadHandler(FileUploadHandler):
    """Stops an uploaded file at ``WARDEN_MAX_REPORT_BYTES`` while it streams in."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.WARDEN_MAX_REPORT_BYTES:
            raise ReportTooLarge(_too_large())
        return raw_data  # the next handler (memory or temporary file) keeps it

    def file_complete(self, file_size: int) -> None:
        return None


class RequestSizeLimitMiddleware:
    """413 for a declared body bigger than any acceptable upload, and for a file that
    streams past the limit (JSON on the API, plain text elsewhere)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.WARDEN_MAX_REPORT_BYTES + FORM_ROOM_BYTES:
            return self._refuse(request, _too_large(declared))
        if request.method == "POST" and request.content_type == "multipart/form-data":
            # Parsed here, once (later middleware and views reuse it), so that a file
            # streaming past the limit is answered here and not as a server error.
            try:
                request.POST  # noqa: B018 - the property parses the body
            except ReportTooLarge as exc:
                return self._refuse(request, str(exc.detail))
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"error": message, "detail": {}}, status=413)
        else:
            response = HttpResponse(
                json.dumps(message)[1:-1], status=413, content_type="text/plain; charset=utf-8"
            )
        return response
