"""PostgreSQL roles: the migration role owns the schema; the runtime role the server runs as may only
read and write rows.

The runtime role gets ``USAGE`` on the schema and ``SELECT, INSERT, UPDATE, DELETE`` on its tables and
sequences, and nothing else: no ``CREATE`` (no DDL), no ``TRUNCATE``, no ``REFERENCES``/``TRIGGER``, and it
owns nothing, so it cannot ``DROP`` or ``ALTER`` a table or disable the audit-trail triggers. Migrations
(``privacybot db upgrade``) run as the owner; the server then connects as the runtime role
(``PRIVACYBOT_DATABASE_URL=postgresql://privacybot_runtime@host/db``); on an up-to-date schema the
start-up upgrade only reads the revision. ``privacybot db runtime-grants ROLE`` prints the statements.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class InvalidRoleName(ValueError):
    """A role or schema name that is not a plain lower-case SQL identifier."""


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise InvalidRoleName(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def runtime_grants(*, role: str, schema: str = "public") -> tuple[str, ...]:
    """The statements (run by the schema owner, after the migrations) that give ``role`` row access only.

    Default privileges cover tables a later migration creates, when it runs as the same owner."""
    r, s = _identifier(role), _identifier(schema)
    return (
        f"REVOKE ALL ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    )
