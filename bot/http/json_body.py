"""The one JSON body reader of the HTTP edges: anything unreadable is one exception, never a 500.

Besides bad syntax and bad UTF-8, a body nested thousands of levels deep makes the decoder raise
RecursionError; it is unreadable JSON like any other (it was a 500).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class InvalidJsonBody(ValueError):
    """The request body is not JSON (or not UTF-8)."""


async def read_json(request: web.Request) -> Any:
    """The decoded JSON body of ``request``. Raises InvalidJsonBody; each edge answers it its own way."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidJsonBody("the body is not JSON") from exc
