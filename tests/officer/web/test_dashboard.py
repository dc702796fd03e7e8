"""The HTML dashboard over plain HTTP: sign-in, cookies, CSRF on every form, escaping, filters, export."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from tests.officer.web.conftest import OFFICER_EMAIL, OFFICER_PASSWORD, OfficerServer

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser_like() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 (aiohttp refuses IP-address cookies by default)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(
    server: OfficerServer, http: aiohttp.ClientSession, password: str = OFFICER_PASSWORD
) -> aiohttp.ClientResponse:
    """Fetch the login form and post it (with its token); returns the answer (redirects not followed)."""
    async with http.get(f"{server.url}/officer/login") as response:
        token = _CSRF.search(await response.text())
    assert token is not None
    return await http.post(
        f"{server.url}/officer/login",
        allow_redirects=False,
        data={"email": OFFICER_EMAIL, "password": password, "csrf_token": token.group(1)},
    )


async def test_signed_out_officer_is_sent_to_the_login_page(officer_server: OfficerServer) -> None:
    """The queue redirects to the login page; a wrong password is refused with the same page."""
    async with browser_like() as http:
        async with http.get(f"{officer_server.url}/officer/", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/officer/login"
        refused = await sign_in(officer_server, http, password="wrong password!!")
        assert refused.status == 401 and "do not match" in await refused.text()


async def test_session_cookie_is_http_only_strict_and_the_login_form_needs_its_token(
    officer_server: OfficerServer,
) -> None:
    """The session cookie is HttpOnly and SameSite=Strict; posting the login form without its token fails."""
    async with browser_like() as http:
        response = await sign_in(officer_server, http)
        assert response.status == 303
        header = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("pb_officer="))
        assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/officer" in header
    async with browser_like() as http:
        async with http.post(
            f"{officer_server.url}/officer/login",
            allow_redirects=False,
            data={"email": OFFICER_EMAIL, "password": OFFICER_PASSWORD},
        ) as forged:
            assert forged.status == 403


async def test_every_form_carries_the_token_and_posts_without_it_are_refused(
    officer_server: OfficerServer,
) -> None:
    """The ticket page's forms each carry the CSRF token; the status form without it is refused (403) and
    with it works."""
    _, reference = await officer_server.open_handoff("/human")
    async with browser_like() as http:
        await sign_in(officer_server, http)
        async with http.get(f"{officer_server.url}/officer/tickets/{reference}") as response:
            html = await response.text()
        assert html.count("<form") == html.count('name="csrf_token"') >= 5
        token = _CSRF.search(html)
        assert token is not None
        url = f"{officer_server.url}/officer/tickets/{reference}/status"
        async with http.post(url, data={"status": "in_progress"}, allow_redirects=False) as refused:
            assert refused.status == 403
        async with http.post(
            url, data={"status": "in_progress", "csrf_token": token.group(1)}, allow_redirects=False
        ) as done:
            assert done.status == 303


async def test_person_text_is_escaped_and_queue_filters_and_export_work(
    officer_server: OfficerServer,
) -> None:
    """Markup a person wrote is escaped on the ticket page; the channel filter hides other channels; the
    CSV export is an attachment."""
    session_id, reference = await officer_server.open_handoff()
    async with officer_server.http.post(
        f"{officer_server.url}/api/chat", json={"session_id": session_id, "text": "<script>alert(1)</script>"}
    ):
        pass
    async with browser_like() as http:
        await sign_in(officer_server, http)
        async with http.get(f"{officer_server.url}/officer/tickets/{reference}") as response:
            html = await response.text()
            assert "Content-Security-Policy" in response.headers
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        async with http.get(f"{officer_server.url}/officer/?channel=telegram") as response:
            assert reference not in await response.text()
        async with http.get(f"{officer_server.url}/officer/?channel=web") as response:
            assert reference in await response.text()
        async with http.get(f"{officer_server.url}/officer/export.csv") as response:
            assert response.headers["Content-Disposition"].startswith("attachment")
            assert reference in await response.text()
        async with http.get(f"{officer_server.url}/officer/tickets/PRV-2222-2222") as response:
            assert response.status == 404


async def test_repeated_wrong_passwords_are_slowed_down_and_officer_redirects(
    officer_server: OfficerServer,
) -> None:
    """After five wrong passwords for an address the next try must wait (429 with Retry-After, saying how
    long), even with the right password; /officer leads to /officer/."""
    async with browser_like() as http:
        for _ in range(5):
            refused = await sign_in(officer_server, http, password="not the password")
            assert refused.status == 401
        blocked = await sign_in(officer_server, http)
        assert blocked.status == 429 and "Too many failed sign-ins" in await blocked.text()
        assert 1 <= int(blocked.headers["Retry-After"]) <= 30
        async with http.get(f"{officer_server.url}/officer", allow_redirects=False) as response:
            assert response.status == 301 and response.headers["Location"] == "/officer/"


async def test_requester_is_a_label_never_the_session_id(
    officer_server: OfficerServer,
) -> None:
    """The ticket page, the API detail and the CSV show the person as a short opaque label (and their
    address); the web session id, the key to their chat history, appears nowhere."""
    session_id, reference = await officer_server.open_handoff()
    status, detail = await officer_server.api("GET", f"/tickets/{reference}")
    assert status == 200
    label = detail["ticket"]["requester_label"]
    assert re.fullmatch(r"P-[A-Z2-7]{6}", label)
    assert session_id not in str(detail)
    async with browser_like() as http:
        await sign_in(officer_server, http)
        async with http.get(f"{officer_server.url}/officer/tickets/{reference}") as response:
            html = await response.text()
        async with http.get(f"{officer_server.url}/officer/export.csv") as response:
            csv_text = await response.text()
    assert label in html and "no verified address" in html
    assert session_id not in html and session_id not in csv_text


async def test_forty_concurrent_wrong_passwords_were_all_checked(officer_server: OfficerServer) -> None:
    """Regression: the throttle checked, awaited argon2, then counted, so 40 concurrent wrong passwords
    were all checked. Each try is counted before the check now: only the free ones reach argon2."""
    async with browser_like() as http:
        answers = await asyncio.gather(
            *(sign_in(officer_server, http, password=f"wrong guess {n}") for n in range(40))
        )
    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(401) == 5
    assert statuses.count(429) == 35


async def test_non_ascii_csrf_token_was_a_500(officer_server: OfficerServer) -> None:
    """Regression: a non-ASCII ``csrf_token`` made compare_digest raise TypeError (500). It is a 400 on the
    login form and on a signed-in form alike."""
    async with browser_like() as http:
        async with http.get(f"{officer_server.url}/officer/login"):
            pass
        async with http.post(
            f"{officer_server.url}/officer/login",
            data={"email": OFFICER_EMAIL, "password": OFFICER_PASSWORD, "csrf_token": "jeton-été"},
        ) as response:
            assert response.status == 400
        signed_in = await sign_in(officer_server, http)
        assert signed_in.status == 303
        async with http.post(f"{officer_server.url}/officer/logout", data={"csrf_token": "ключ"}) as response:
            assert response.status == 400
