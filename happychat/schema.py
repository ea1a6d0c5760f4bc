"""OpenAPI schema hooks: every operation documents the API's one error shape.

Every REST error has the body `{"code", "detail"}` (plus `errors`, `retryable`, `field`
where they apply, docs/protocol.md §6.1). Views document the answers particular to them;
this hook adds the ones any operation can give, so a client generated from the schema (and
the schema fuzz in tests/system/test_api_fuzz.py) knows them all.
"""

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer of the REST API (docs/protocol.md §6.1).",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code."},
        "detail": {"type": "string", "description": "A sentence for people."},
        "errors": {
            "type": "object",
            "description": "Field errors (`code` is `invalid`): field name → messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retryable": {"type": "boolean", "description": "Retrying the same request may work."},
        "field": {"type": "string", "description": "The input a refusal is about."},
    },
    "required": ["code", "detail"],
}

# Answers any operation may give, whatever it does.
COMMON = {
    "400": "Invalid input (`invalid` with `errors`, or a service's refusal).",
    "401": "No or bad credentials (`unauthenticated`).",
    "403": "Not allowed.",
    "404": "No such object, or not visible to you.",
    "405": "No such method on this path (`method_not_allowed`).",
    "413": "The request body is too large (`too_large`).",
    "429": "Too many requests (`rate_limited`); see `Retry-After`.",
    "503": "Temporarily unavailable (`busy` and other retryable codes); retry later.",
}
WITH_BODY = {"415": "The body's media type is not accepted (`unsupported_media_type`)."}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Give every operation the common error answers, all with the Error schema."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            answers = dict(COMMON)
            if method in ("post", "put", "patch"):
                answers.update(WITH_BODY)
            for status, description in answers.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                # An error documented without a body still has the error body.
                if str(status).startswith(("4", "5")) and not response.get("content"):
                    response["content"] = error
    return result
