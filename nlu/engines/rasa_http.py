"""An NLU engine that asks a running Rasa server (`rasa run --enable-api`) over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp

from nlu.intents import EntityName, Intent
from nlu.result import EngineUnavailable, Entity, IntentScore, ParseResult

log = logging.getLogger(__name__)

_INTENTS = {i.value: i for i in Intent}
_ENTITIES = {e.value: e for e in EntityName}


class RasaUnavailable(EngineUnavailable):
    """The Rasa server could not be reached or gave no usable answer."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Rasa server at {url} unavailable: {reason}")
        self.url = url
        self.reason = reason


def parse_result_from_rasa(payload: Mapping[str, Any]) -> ParseResult:
    """Translate Rasa's `/model/parse` answer into a ParseResult.

    An intent name we do not know (Rasa's ``nlu_fallback``, or none at all) becomes OUT_OF_SCOPE with
    Rasa's confidence; the ranking keeps only known intents, in Rasa's order. Entities with unknown
    names are skipped, and an entity found twice (DIET and the regex extractor) is kept once.
    Raises KeyError/TypeError/ValueError on a payload that is not shaped like Rasa's.
    """
    top = payload["intent"] or {}
    name = top.get("name")
    confidence = float(top.get("confidence") or 0.0)
    intent = IntentScore(_INTENTS.get(name, Intent.OUT_OF_SCOPE) if name else Intent.OUT_OF_SCOPE, confidence)
    ranking = tuple(
        IntentScore(_INTENTS[item["name"]], float(item["confidence"]))
        for item in payload.get("intent_ranking") or ()
        if item.get("name") in _INTENTS
    )
    entities: list[Entity] = []
    seen: set[tuple[EntityName, int, int]] = set()
    for item in payload.get("entities") or ():
        entity_name = _ENTITIES.get(item.get("entity"))
        if entity_name is None:
            continue
        start, end = int(item["start"]), int(item["end"])
        if (entity_name, start, end) in seen:
            continue
        seen.add((entity_name, start, end))
        entities.append(Entity(entity_name, str(item["value"]), start, end))
    entities.sort(key=lambda e: (e.start, e.end))
    return ParseResult(text=str(payload["text"]), intent=intent, ranking=ranking, entities=tuple(entities))


class RasaHttpEngine:
    """Parses messages with a Rasa server's `POST /model/parse`.

    Give it a ClientSession to share one, or let it open its own on first use; `close()` (or
    `async with`) closes only a session it opened.
    """

    name = "rasa"

    def __init__(
        self,
        url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)

    async def parse(self, text: str) -> ParseResult:
        """Understand one message; raises RasaUnavailable if the server fails or times out."""
        session = self._session_for_request()
        endpoint = f"{self.url}/model/parse"
        try:
            async with session.post(endpoint, json={"text": text}, timeout=self._timeout) as response:
                if response.status != 200:
                    raise RasaUnavailable(self.url, f"HTTP {response.status} from /model/parse")
                payload = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(self.url, f"{type(exc).__name__}: {exc}") from exc
        try:
            return parse_result_from_rasa(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # The reason names the missing field only; the payload carries the person's text.
            raise RasaUnavailable(self.url, f"malformed answer ({type(exc).__name__}: {exc})") from exc

    def _session_for_request(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this engine opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
