"""Every table of the application on one metadata: what Alembic migrates and compares against."""

from __future__ import annotations

from bot.store import officer_models, policy_models
from bot.store.models import Base

# Imported for their side effect: their tables join Base.metadata.
TABLE_MODULES = (officer_models, policy_models)
metadata = Base.metadata
