"""Fixtures shared by the whole suite live in tests/support; each module there is a pytest plugin."""

pytest_plugins = [
    "tests.support.database",
    "tests.support.private_postgres",
    "tests.support.redis_server",
    "tests.support.mail_servers",
    "tests.support.imap_server",
    "tests.support.telegram_api",
    "tests.support.browser",
    "tests.support.core",
    "tests.support.rasa",
]
