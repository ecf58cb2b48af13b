"""The HTTP edge: FastAPI app, routes, templates and static assets."""
