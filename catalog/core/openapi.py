"""The OpenAPI schema says every answer the API can give, errors included (drf-spectacular).

drf-spectacular documents only the success of each operation; clients (and schemathesis, in
tests/test_api_fuzz.py) also meet these, always with a JSON body:

- 400 when the operation takes input (query parameters or a body): a message per field, or `detail`;
- 401 on every operation: a token that is wrong, or credentials missing where they are needed
  (with WWW-Authenticate);
- 403 on writes: logged in but not allowed (not an owner, not staff), or a session without its CSRF token;
- 404 on an object's own path (no such object) and on lists, whose page numbers past the end are not found.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, for a person"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field name (or `detail`, `non_field_errors`) to what is wrong with it",
    "additionalProperties": {},
}


def _error(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class CanonAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        has_input = bool(self._get_parameters()) or self._get_request_body() is not None
        errors = {"401": _error("No credentials where they are needed, or wrong ones", DETAIL)}
        if has_input:
            errors["400"] = _error("Bad input", FIELD_ERRORS)
        if self.method not in SAFE_METHODS:
            errors["403"] = _error("Not allowed for this user", DETAIL)
        if "{" in self.path or self._is_list_view():
            errors["404"] = _error("No such object (or page)", DETAIL)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
