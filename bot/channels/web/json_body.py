"""The one JSON body reader of every HTTP endpoint: anything unreadable is one exception, never a 500.

Besides bad syntax and bad UTF-8, a body nested thousands of levels deep makes the decoder raise
RecursionError; it is unreadable JSON like any other.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class UnreadableJson(ValueError):
    """The request body is not JSON this server can read."""


async def read_json(request: web.Request) -> Any:
    """The decoded body of ``request``. Raises UnreadableJson."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise UnreadableJson(type(exc).__name__) from exc
