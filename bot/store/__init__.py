"""The database: engine factory, models, repositories and Alembic migrations. Nothing connects at import."""
