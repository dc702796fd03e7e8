"""The officer JSON API (bearer tokens) and its place in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime, timedelta

from openapi_spec_validator import validate

from tests.officer.web.conftest import OfficerServer


async def test_requests_without_a_valid_token_are_refused(officer_server: OfficerServer) -> None:
    """No token, a made-up token and a revoked token all get 401 with a JSON error."""
    async with officer_server.http.get(f"{officer_server.url}/api/officer/tickets") as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
    status, _ = await officer_server.api("GET", "/tickets", token="pbo_made-up")
    assert status == 401
    await officer_server.workspace.accounts.revoke_tokens("ana@zynorlink.example")
    status, _ = await officer_server.api("GET", "/tickets")
    assert status == 401


async def test_queue_detail_reply_status_extension_assignment_and_end_handoff(
    officer_server: OfficerServer,
) -> None:
    """Every dashboard operation works over the API, with the officer's address on the audit trail."""
    session_id, reference = await officer_server.open_handoff()
    status, listing = await officer_server.api("GET", "/tickets?channel=web&kind=handoff")
    assert status == 200 and [t["reference"] for t in listing["tickets"]] == [reference]
    assert listing["tickets"][0]["sla"] == "on_track" and listing["tickets"][0]["seconds_left"] > 0

    status, sent = await officer_server.api("POST", f"/tickets/{reference}/replies", json={"text": "Hi!"})
    assert status == 201 and sent["first_response"] and sent["delivered"]
    status, _ = await officer_server.api("POST", f"/tickets/{reference}/replies", json={"text": ""})
    assert status == 400

    status, assigned = await officer_server.api(
        "POST", f"/tickets/{reference}/assignment", json={"assignee": "ana@zynorlink.example"}
    )
    assert status == 200 and assigned["ticket"]["assignee"] == "ana@zynorlink.example"
    status, extended = await officer_server.api(
        "POST", f"/tickets/{reference}/extension", json={"months": 2, "reason": "Complex"}
    )
    assert status == 200 and extended["ticket"]["extended_until"]
    status, refused = await officer_server.api(
        "POST", f"/tickets/{reference}/extension", json={"months": 1, "reason": "More"}
    )
    assert status == 409 and refused["error"]["code"] == "ExtensionNotAllowed"

    status, detail = await officer_server.api("GET", f"/tickets/{reference}")
    assert status == 200 and detail["handoff_active"]
    assert "ana@zynorlink.example" in {entry["actor"] for entry in detail["audit"]}

    status, ended = await officer_server.api("POST", f"/tickets/{reference}/handoff/end")
    assert status == 200 and ended["ticket"]["status"] == "in_progress"
    status, _ = await officer_server.api("POST", f"/tickets/{reference}/status", json={"status": "rejected"})
    assert status == 400
    async with officer_server.http.get(
        f"{officer_server.url}/api/sessions/{session_id}/messages"
    ) as response:
        texts = [m["text"] for m in (await response.json())["messages"]]
    assert any("Hi!" in text for text in texts) and any("Complex" in text for text in texts)


async def test_unknown_ticket_is_404_and_csv_export_lists_tickets(officer_server: OfficerServer) -> None:
    """An unknown reference is a JSON 404; the CSV export includes closed tickets."""
    status, body = await officer_server.api("GET", "/tickets/PRV-2222-2222")
    assert status == 404 and body["error"]["code"] == "ticket_not_found"
    _, reference = await officer_server.open_handoff()
    await officer_server.api("POST", f"/tickets/{reference}/status", json={"status": "resolved"})
    status, text = await officer_server.api("GET", "/tickets.csv")
    assert status == 200 and text.splitlines()[0].startswith("reference,kind,status")
    assert reference in text and "resolved" in text


async def test_openapi_document_includes_the_officer_api(officer_server: OfficerServer) -> None:
    """/api/openapi.json lists the officer paths with a bearer scheme, and is a valid OpenAPI 3.1 document."""
    async with officer_server.http.get(f"{officer_server.url}/api/openapi.json") as response:
        document = await response.json()
    validate(document)
    assert "/api/officer/tickets/{reference}/replies" in document["paths"]
    assert "/api/chat" in document["paths"]
    assert document["components"]["securitySchemes"]["officerToken"]["scheme"] == "bearer"
    assert "ReplyRequest" in document["components"]["schemas"]


async def test_urgent_ticket_is_first_in_the_queue_with_a_4_hour_clock(officer_server: OfficerServer) -> None:
    """A reported account takeover in the web chat opens urgent, its first response due 4 h after it
    opened, and the officer API lists it first, above an older normal ticket."""
    _, older = await officer_server.open_handoff()
    _, urgent = await officer_server.open_handoff("someone logged into my account without my permission")
    status, listing = await officer_server.api("GET", "/tickets")
    assert status == 200
    assert [t["reference"] for t in listing["tickets"]] == [urgent, older]
    first = listing["tickets"][0]
    assert first["priority"] == "urgent" and first["kind"] == "security_incident"
    opened = datetime.fromisoformat(first["created_at"])
    assert datetime.fromisoformat(first["first_response_due"]) - opened == timedelta(hours=4)
    assert 3 * 3600 < first["seconds_left"] <= 4 * 3600


async def test_cors_wildcard_covered_the_officer_api(officer_server: OfficerServer) -> None:
    """Regression: ``Access-Control-Allow-Origin: *`` was sent on /api/officer too, so any site's page
    could read the API with a token it got hold of. The chat API keeps it; the officer API has none."""
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    async with officer_server.http.options(
        f"{officer_server.url}/api/officer/tickets", headers=preflight
    ) as response:
        assert "Access-Control-Allow-Origin" not in response.headers
    async with officer_server.http.get(
        f"{officer_server.url}/api/officer/tickets",
        headers={"Origin": "https://evil.example", "Authorization": f"Bearer {officer_server.token}"},
    ) as response:
        assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers
    async with officer_server.http.options(f"{officer_server.url}/api/chat", headers=preflight) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_deeply_nested_json_to_the_officer_api_was_a_500(officer_server: OfficerServer) -> None:
    """Regression: 5,000-deep nested JSON in an officer API body raised RecursionError (500); it is a 400."""
    reference = (await officer_server.open_handoff())[1]
    async with officer_server.http.post(
        f"{officer_server.url}/api/officer/tickets/{reference}/replies",
        data=b"[" * 5000 + b"]" * 5000,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {officer_server.token}"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_json"
