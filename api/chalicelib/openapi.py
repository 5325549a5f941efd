"""The OpenAPI 3 document, generated from the Chalice app: its routes, methods, path
parameters and API-key requirement from the route table, each operation's summary from its
view's docstring, its query, body and answers from ``documented``.

``python -m chalicelib.openapi`` (from api/) prints it; docs/openapi.json is that output and
a test keeps it equal to what the code generates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib import schemas

ERROR_STATUSES = {
    400: "bad input: the error names the field and the limit",
    404: "the item is not in the served catalogue",
    503: "no model is loaded yet: the error says why",
}


def documented(
    answer: dict,
    errors: tuple[int, ...] = (503,),
    query: dict[str, dict] | None = None,
    body: dict | None = None,
) -> Callable[[Callable], Callable]:
    """Attach what a route takes and answers to its view (read by ``document``)."""

    def attach(view: Callable) -> Callable:
        view.openapi = {"answer": answer, "errors": errors, "query": query or {}, "body": body}
        return view

    return attach


def _json(schema: dict) -> dict:
    name = next((name for name, named in schemas.NAMED.items() if named is schema), None)
    return {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"} if name else schema}
    }


def _operation(entry: Any) -> dict:
    spec = entry.view_function.openapi
    summary, _, description = (entry.view_function.__doc__ or "").strip().partition("\n\n")
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schemas.ITEM_ID | {"minLength": 1}}
        for name in entry.view_args
    ] + [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in spec["query"].items()
    ]
    operation: dict[str, Any] = {"summary": " ".join(summary.split())}
    if description:
        operation["description"] = " ".join(description.split())
    if parameters:
        operation["parameters"] = parameters
    if spec["body"]:
        operation["requestBody"] = {"required": True, "content": _json(spec["body"])}
    operation["responses"] = {"200": {"description": "OK", "content": _json(spec["answer"])}} | {
        str(status): {"description": ERROR_STATUSES[status], "content": _json(schemas.ERROR)}
        for status in sorted(
            {400, *spec["errors"]} if parameters or spec["body"] else spec["errors"]
        )
    }
    if entry.api_key_required:
        operation["security"] = [{"api_key": []}]
    return operation


def document(app: Any) -> dict:
    paths = {
        path: {method.lower(): _operation(entry) for method, entry in sorted(methods.items())}
        for path, methods in sorted(app.routes.items())
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": app.app_name,
            "version": "1",
            "description": "Session-based recommendations of the served champion model.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.NAMED,
            "securitySchemes": {"api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
    }


def main() -> None:
    from app import app

    print(json.dumps(document(app), indent=2))


if __name__ == "__main__":
    main()
