"""OpenAPI building blocks shared by the web chat's and the officer's documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

_REF = "#/components/schemas/{model}"


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON body of ``model``, by reference to its component schema."""
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def json_answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    """A response with a JSON body of ``model``."""
    return {"description": description, "content": json_content(model)}


def component_schemas(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    """The component schemas of ``models`` (and of the models they use), keyed by name."""
    _, schemas = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    return dict(schemas.get("$defs", {}))
