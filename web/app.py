"""The web app. This issue's slice: health, capture and record JSON, history, thumbnails."""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from models.errors import NotFoundError
from pipeline.bootstrap import Services
from pipeline.views import aggregate_view, history_view
from storage import BlobNotFoundError


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="sohoa", version="0.1.0")

    @app.exception_handler(NotFoundError)
    @app.exception_handler(BlobNotFoundError)
    def not_found(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "events": services.store.max_notification_id()}

    @app.get("/api/captures/{ident}")
    def capture(ident: UUID) -> dict:
        return aggregate_view(services.store.capture(ident))

    @app.get("/api/captures/{ident}/history")
    def capture_history(ident: UUID) -> list:
        return history_view(services.store.history(ident))

    @app.get("/api/captures/{ident}/thumbnail")
    def thumbnail(ident: UUID) -> Response:
        key = services.store.capture(ident).thumbnail_key
        if key is None:
            raise HTTPException(404, "no thumbnail yet")
        return Response(services.blobs.read_bytes(key), media_type="image/jpeg")

    return app
