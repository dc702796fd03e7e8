"""The web chat: an HTTP JSON API, a websocket for later messages, the chat page and an embeddable widget."""

from bot.channels.web.app import WebChannel, build_web_channel

__all__ = ["WebChannel", "build_web_channel"]
