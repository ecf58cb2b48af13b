"""Streaming multipart/form-data: file parts go straight to named files on disk.

Starlette's own form parser spools files into anonymous temporary files that ingest cannot
open by path; here each file part is written to a named file in `folder` as it arrives, so
memory stays at one network chunk whatever the file size, and ingest reads the file in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import FormParser, parse_options_header

MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, Path]] = field(default_factory=list)
    """(original file name, path of the received bytes)"""

    def discard(self) -> None:
        for _, path in self.files:
            path.unlink(missing_ok=True)


async def receive_form(request: Request, folder: Path, max_file_bytes: int) -> ReceivedForm:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(415, "send multipart/form-data")
    folder.mkdir(parents=True, exist_ok=True)
    form = ReceivedForm()

    def on_field(f) -> None:
        if len(form.fields) >= MAX_FIELDS:
            raise HTTPException(400, "too many form fields")
        name = (f.field_name or b"").decode("utf-8", "replace")
        form.fields[name] = (f.value or b"").decode("utf-8", "replace")

    def on_file(f) -> None:
        if f.in_memory:
            f.flush_to_disk()
        name = (f.file_name or b"upload").decode("utf-8", "replace")
        form.files.append(
            (
                os.path.basename(name.replace("\\", "/")) or "upload",
                Path(f.actual_file_name.decode()),
            )
        )
        f.close()

    config = {
        "UPLOAD_DIR": str(folder),
        "UPLOAD_DELETE_TMP": False,
        "MAX_MEMORY_FILE_SIZE": 0,
        "MAX_BODY_SIZE": float("inf"),
    }
    parser = FormParser(
        "multipart/form-data", on_field, on_file, boundary=params[b"boundary"], config=config
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_file_bytes + MAX_FIELD_BYTES * MAX_FIELDS:
                raise HTTPException(413, f"upload larger than {max_file_bytes} bytes")
            await run_in_threadpool(parser.write, chunk)
        await run_in_threadpool(parser.finalize)
    except BaseException:
        form.discard()  # a cut-off upload leaves nothing behind
        raise
    return form
