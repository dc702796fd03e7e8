"""The OpenAPI document served at /api/openapi.json."""

from __future__ import annotations

from openapi_spec_validator import validate

from bot.channels.web.handlers import build_openapi
from tests.channels.web.conftest import ChatServer


async def test_served_document_is_valid_openapi_3_1(chat_server: ChatServer) -> None:
    """The served document validates as OpenAPI 3.1 and describes the chat endpoint's request and answer."""
    async with chat_server.http.get(f"{chat_server.url}/api/openapi.json") as response:
        assert response.status == 200
        document = await response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    chat = document["paths"]["/api/chat"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatRequest"
    }
    schemas = document["components"]["schemas"]
    assert set(schemas["ChatRequest"]["required"]) == {"session_id", "text"}
    assert schemas["ChatResponse"]["properties"]["replies"]["type"] == "array"


def test_every_reference_resolves() -> None:
    """Every $ref in the document names a schema under components (no dangling $defs)."""
    document = build_openapi(version="test")
    schemas = document["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_the_chat_language_and_quick_reply_payload_are_documented() -> None:
    """The optional "lang" (en, az, ru) and "payload" of a message, the answer's "lang" and its quick
    replies as payload + label are in the document."""
    schemas = build_openapi(version="test")["components"]["schemas"]
    request = schemas["ChatRequest"]["properties"]
    assert {"lang", "payload"} <= set(request) and "lang" not in schemas["ChatRequest"].get("required", [])
    assert schemas["Language"]["enum"] == ["en", "az", "ru"]
    assert set(schemas["QuickReplyChoice"]["properties"]) == {"payload", "label"}
    assert "lang" in schemas["ChatResponse"]["properties"]
    chat = build_openapi(version="test")["paths"]["/api/chat"]["post"]
    assert "`lang`" in chat["description"] and "`payload`" in chat["description"]
