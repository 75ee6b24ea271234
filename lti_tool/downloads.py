"""Files the tool hands out (.ics, .csv, .json, .eml, PDF): one way to send them, with Werkzeug's headers."""
from __future__ import annotations

import io

from flask import Response, send_file


def download(body: bytes | str, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """``body`` as a download named ``filename`` (RFC 6266 Content-Disposition, any characters safe)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"  # people's data: never kept by a shared cache
    return response
