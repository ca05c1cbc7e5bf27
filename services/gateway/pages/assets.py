"""The portal's own CSS and scripts and the vendored npm assets (scripts/vendor-assets), under /static/: served by
the gateway itself, so the Content-Security-Policy's 'self' covers them."""
from __future__ import annotations

import mimetypes
from pathlib import Path

from werkzeug.wrappers import Response

from paht.errors import ApiError
from paht.web import guarded, http

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png",
         ".svg": "image/svg+xml", ".json": "application/json"}


def static_file(path: str) -> Path:
    """A file under static/ (never outside it: `..` and absolute paths find nothing)."""
    target = (STATIC / path).resolve()
    if STATIC not in target.parents or not target.is_file() or target.suffix not in TYPES:
        raise ApiError("NOT_FOUND")
    return target


class StaticFiles:
    @http("GET", "/static/<path:path>")
    @guarded
    def static(self, request, path):
        target = static_file(path)
        response = Response(target.read_bytes(), content_type=TYPES.get(target.suffix) or
                            mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    static.portal_page = True
