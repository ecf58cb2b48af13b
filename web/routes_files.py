"""Download links of captures' originals on local storage (`sohoa url`): no account needed,
the link's signature and expiry are the permission."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from storage import links
from storage.base import content_disposition
from web.portal.routes import services_of, stream_blob

router = APIRouter(tags=["files"])


@router.get(links.FILES_PATH + "/{capture_id}", include_in_schema=False)
def download(
    request: Request,
    capture_id: UUID,
    expires: Annotated[int, Query(description="Unix time the link stops working")],
    sig: Annotated[str, Query(max_length=128)],
) -> StreamingResponse:
    """A capture's original under its original file name, while the signed link is valid."""
    try:
        links.check(request.app.state.secret, str(capture_id), expires, sig, datetime.now(UTC))
    except links.LinkRefusedError as e:
        raise HTTPException(403, str(e)) from None
    svc = services_of(request)
    capture = svc.store.capture(capture_id)  # NotFoundError: 404
    key = capture.blob_key
    headers = {
        "Content-Disposition": content_disposition(capture.original_names[0]),
        "Content-Length": str(svc.blobs.size(key)),  # BlobNotFoundError: 404
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(stream_blob(svc, key), media_type=capture.media_type, headers=headers)
