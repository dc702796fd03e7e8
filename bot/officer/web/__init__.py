"""The officer workspace over HTTP: the HTML dashboard at ``/officer`` (session cookie + CSRF) and the JSON
API at ``/api/officer`` (bearer tokens), mounted as sub-applications of the web channel's Application."""

from __future__ import annotations

from aiohttp import web

from bot.officer.web.api import add_officer_paths, build_api_app
from bot.officer.web.dashboard import build_dashboard_app, root_redirect_handler
from bot.officer.web.security import OfficerWebServices

__all__ = ["OfficerWebServices", "add_officer_paths", "mount_officer"]


def mount_officer(app: web.Application, services: OfficerWebServices) -> None:
    """Add the dashboard and the API to ``app`` (before it starts)."""
    app.router.add_get("/officer", root_redirect_handler)
    app.add_subapp("/officer", build_dashboard_app(services))
    app.add_subapp("/api/officer", build_api_app(services))
