"""Seller-facing customs views. Thin: resolve the object scoped to the user, respond."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from customs.services import document_for_member


@login_required
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    """A CN22/CN23, invoice or advance-data file of one of the user's shops."""
    document = document_for_member(user=request.user, pk=pk)
    if document is None:
        raise Http404("No such document.")
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
