"""The web app. This issue's slice: health, capture and record JSON, history, thumbnails."""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response

from models.errors import NotFoundError
from pipeline.bootstrap import Services
from pipeline.views import aggregate_view, history_view
from storage import BlobNotFoundError


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="sohoa", version="0.1.0")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "events": services.store.max_notification_id()}

    @app.get("/api/captures/{ident}")
    def capture(ident: UUID) -> dict:
        try:
            return aggregate_view(services.store.capture(ident))
        except NotFoundError as e:
            raise HTTPException(404, str(e)) from None

    @app.get("/api/captures/{ident}/history")
    def capture_history(ident: UUID) -> list:
        try:
            return history_view(services.store.history(ident))
        except NotFoundError as e:
            raise HTTPException(404, str(e)) from None

    @app.get("/api/captures/{ident}/thumbnail")
    def thumbnail(ident: UUID) -> Response:
        try:
            key = services.store.capture(ident).thumbnail_key
            if key is None:
                raise HTTPException(404, "no thumbnail yet")
            return Response(services.blobs.read_bytes(key), media_type="image/jpeg")
        except (NotFoundError, BlobNotFoundError) as e:
            raise HTTPException(404, str(e)) from None

    return app
