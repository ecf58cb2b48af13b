"""Staff uploads: multipart forms and JSON, and resumable uploads in chunks.

Uploads go through `pipeline.usecases.ingest.Ingestor` like every other input; the web only receives
bytes into files under `<data dir>/uploads` and hands their paths over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.usecases.accounts import Principal
from pipeline.usecases.ingest import DISK_FULL, Ingestor, IngestResult
from pipeline.usecases.inputs import Item
from pipeline.usecases.sidecar import CaptureMeta, validate
from pipeline.usecases.uploads import (
    UploadError,
    UploadNotFoundError,
    UploadOffsetError,
    UploadTooLargeError,
)
from web.auth import Archivist, csrf_guard
from web.staff.multipart import receive_form
from web.staff.routes import _svc

GATHER = 4 * 1024 * 1024
router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])


META_FIELDS = (
    "title", "description", "collection", "language", "site_code", "document_code",
    "unit_code", "unit_era", "sheet", "parcel_number",
)  # fmt: skip


def ingestor(svc: Services, who: Principal) -> Ingestor:
    """Received files are ours: the blob store takes them by rename (same file system) or
    uploads them once, never copying them first."""
    s = svc.settings
    tmp = s.data_dir / "uploads" / "tmp"
    return Ingestor(svc.store, svc.blobs, s.limits, tmp, who.login or "web", "web", adopt=True)


def meta_from(values: dict[str, Any]) -> CaptureMeta:
    """Sidecar fields from a form or JSON body (empty values dropped), validated as sidecars."""
    picked = {k: str(v).strip() for k, v in values.items() if k in META_FIELDS and str(v).strip()}
    if values.get("kind"):
        picked["kind"] = str(values["kind"])
    try:
        return validate(picked, "upload")
    except InputRejectedError as e:
        raise HTTPException(400, str(e)) from None


def _ingest(
    svc: Services,
    who: Principal,
    name: str,
    path: Path,
    meta: CaptureMeta,
    sha256: str | None = None,
) -> dict:
    item = Item(display=name, source=path, kind=meta.kind, sha256=sha256)
    results: list[IngestResult] = ingestor(svc, who).ingest_item(item, meta)
    return {**results[0].__dict__, "path": name}


@router.post("/api/captures", status_code=201)
async def upload(request: Request, who: Archivist) -> list[dict]:
    """multipart/form-data: one or more `file` parts, plus sidecar fields (`kind`, `title`,
    `site_code`, `document_code`, `unit_code`, `unit_era`, `sheet`, `parcel_number`, …).
    Each file is streamed to disk, then ingested; one result per file."""
    svc = _svc(request)
    folder = svc.settings.data_dir / "uploads" / "form"
    form = await receive_form(request, folder, svc.settings.max_file_bytes)
    try:
        meta = meta_from(form.fields)
        if not form.files:
            raise HTTPException(400, "no file in the form")
        return [await run_in_threadpool(_ingest, svc, who, n, p, meta) for n, p in form.files]
    finally:
        form.discard()


@router.post("/staff/upload", include_in_schema=False)
async def upload_form(request: Request, who: Archivist) -> Response:
    """The no-JavaScript upload form: ingest, then show the first capture's page."""
    results = await upload(request, who)
    first = next((r for r in results if r["capture_id"]), None)
    if first is None:
        return JSONResponse(results, status_code=422)
    return RedirectResponse(f"/staff/captures/{first['capture_id']}", status_code=303)


class NewUpload(BaseModel):
    name: str = Field(..., min_length=1, max_length=255)
    size: int | None = Field(None, ge=1)
    meta: dict[str, str] = Field(default_factory=dict)


@router.post("/api/uploads", status_code=201)
def create_upload(request: Request, who: Archivist, body: NewUpload) -> dict:
    """Start a resumable upload; then PUT chunks at `offset`, then POST …/complete."""
    meta_from(body.meta)  # refuse bad metadata before any byte arrives
    try:
        info = request.app.state.uploads.create(body.name, body.size, body.meta)
    except UploadTooLargeError as e:
        raise HTTPException(413, str(e)) from None
    return _upload_json(info)


@router.get("/api/uploads/{upload_id}")
def upload_status(request: Request, who: Archivist, upload_id: str) -> dict:
    return _upload_json(_uploads_call(request.app.state.uploads.info, upload_id))


@router.put("/api/uploads/{upload_id}")
async def put_chunk(
    request: Request, who: Archivist, upload_id: str, offset: Annotated[int, Query(ge=0)]
) -> dict:
    """Bytes at `offset`. A repeated chunk is accepted and changes nothing; a chunk past the
    end is refused with 409 and `expected` (also in the `Upload-Offset` header)."""
    uploads = request.app.state.uploads
    try:
        with uploads.writer(upload_id, offset) as w:
            await receive_into(request.stream(), w.put_all)
    except UploadError as e:
        raise _upload_error(e) from None
    except OSError as e:
        if e.errno not in DISK_FULL:
            raise
        full = f"the server's disk is full ({e.strerror}); resume later at the stored offset"
        raise HTTPException(507, full) from None
    return _upload_json(uploads.info(upload_id))


@router.post("/api/uploads/{upload_id}/complete")
async def complete_upload(request: Request, who: Archivist, upload_id: str) -> dict:
    """Ingest the assembled file; the upload is discarded whatever the outcome."""
    uploads = request.app.state.uploads
    meta = meta_from(_uploads_call(uploads.info, upload_id).meta)
    return await run_in_threadpool(_complete, _svc(request), who, uploads, upload_id, meta)


def _complete(svc: Services, who: Principal, uploads, upload_id: str, meta: CaptureMeta) -> dict:
    try:
        with uploads.completed(upload_id) as done:
            return _ingest(svc, who, done.info.name, done.path, meta, done.sha256)
    except UploadError as e:
        raise _upload_error(e) from None


@router.delete("/api/uploads/{upload_id}", status_code=204)
def cancel_upload(request: Request, who: Archivist, upload_id: str) -> Response:
    _uploads_call(request.app.state.uploads.info, upload_id)
    request.app.state.uploads.discard(upload_id)
    return Response(status_code=204)


async def receive_into(stream: AsyncIterator[bytes], write: Callable[[list[bytes]], None]) -> None:
    """Receive the body's next group of pieces while a worker thread writes (and hashes) the
    previous one, so the network and the disk overlap; at most two groups are held.

    A failed write stops the receiving and is raised here; the worker thread has always
    finished when this returns (a cancelled wait for a thread waits for it), so the caller may
    close the file."""
    groups, handed = anyio.create_memory_object_stream[list[bytes]](0)

    async def write_all() -> None:
        async for pieces in handed:
            await run_in_threadpool(write, pieces)

    try:
        # the receiving end outlives the task group: a failed write cancels the sender, rather
        # than leaving it to fail on a closed stream
        async with handed, anyio.create_task_group() as tasks:
            tasks.start_soon(write_all)
            async with groups:
                async for pieces in gathered(stream):
                    await groups.send(pieces)
    except BaseExceptionGroup as failed:  # the first failure is the answer (a write's, or the
        raise failed.exceptions[0] from None  # client's going away)


async def gathered(stream: AsyncIterator[bytes], size: int = GATHER) -> AsyncIterator[list[bytes]]:
    """The body's small network pieces in groups of about `size` bytes, so each hand-over to
    a worker thread moves megabytes, not kilobytes. Not joined: a large buffer allocated in
    each worker thread would stay in that thread's malloc arena and grow the server's RSS."""
    pieces: list[bytes] = []
    held = 0
    async for piece in stream:
        pieces.append(piece)
        held += len(piece)
        if held >= size:
            yield pieces
            pieces, held = [], 0
    if held:
        yield pieces


def _uploads_call(fn, upload_id: str):
    try:
        return fn(upload_id)
    except UploadError as e:
        raise _upload_error(e) from None


def _upload_error(e: UploadError) -> HTTPException:
    if isinstance(e, UploadNotFoundError):
        return HTTPException(404, str(e))
    if isinstance(e, UploadOffsetError):
        return HTTPException(
            409, {"message": str(e), "expected": e.expected}, {"Upload-Offset": str(e.expected)}
        )
    if isinstance(e, UploadTooLargeError):
        return HTTPException(413, str(e))
    return HTTPException(400, str(e))


def _upload_json(info) -> dict:
    return {"id": info.id, "name": info.name, "size": info.size, "offset": info.offset}
