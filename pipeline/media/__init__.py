"""Media types from content (never the extension), and cheap structural checks at ingest.

`sniff` looks at magic bytes; `probe` reads headers, trailers and declared sizes with bounded
memory (never the whole file, never the pixels) and rejects input that is corrupt, truncated or
over a limit with a reason a person can act on. Every read of a structure goes through
`pipeline.media.bounded` (lengths and offsets checked before reading), so a lying or cut-off header
is
a rejection naming the file and the structure, never a `struct.error` or an `IndexError`.

PDFium is not thread-safe: every call into pypdfium2, here or in other stages, must hold
`PDFIUM_LOCK`. Pillow has its own process-wide pixel guard (`PIL.Image.MAX_IMAGE_PIXELS`, an error
at twice its value); the entrypoint should call `configure_pillow(limits)` once so that guard is
never tighter than SOHOA_MAX_PIXELS.
"""

"""Media types from content, and structural probes per format family."""
