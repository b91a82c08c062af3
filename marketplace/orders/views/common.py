"""Helpers the buyer and seller pages share."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse


def file_response(document) -> HttpResponse:
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
