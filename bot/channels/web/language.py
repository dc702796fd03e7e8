"""The language a web request wants its page or error message in: ``?lang=``, else the best of its
Accept-Language header, else English. (Chat replies take the conversation's language, not this.)"""

from __future__ import annotations

from aiohttp import web

from responses import DEFAULT_LANGUAGE, LANGUAGES


def accepted_languages(header: str) -> list[str]:
    """``fr, ru;q=0.8, az-AZ;q=0.9`` → ``["az", "ru"]``: the known languages it names, best first (ties in
    header order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-", 1)[0]
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if lang in LANGUAGES and quality > 0:
            ranked.append((-quality, position, lang))
    return [lang for _, _, lang in sorted(ranked)]


def request_language(request: web.BaseRequest) -> str:
    """``en``, ``az`` or ``ru``: what the request asks for by ``?lang=`` or by Accept-Language."""
    chosen = request.query.get("lang", "").lower()
    if chosen in LANGUAGES:
        return chosen
    accepted = accepted_languages(request.headers.get("Accept-Language", ""))
    return accepted[0] if accepted else DEFAULT_LANGUAGE
