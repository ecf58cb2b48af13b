"""Blob storage: content-addressed bytes on local disk or S3 (MinIO).

Imports nothing of ours.
"""

from storage.base import (
    BlobNotFoundError,
    BlobRef,
    BlobStore,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
)

__all__ = [
    "BlobNotFoundError",
    "BlobRef",
    "BlobStore",
    "StorageAccessDeniedError",
    "StorageError",
    "StorageUnavailableError",
]
