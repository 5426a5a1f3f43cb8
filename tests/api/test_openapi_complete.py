"""The OpenAPI schema says every status an operation can answer, each error with the one error
schema, and a download as a file: a client generated from it is never surprised."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from medworks.api.v1 import api

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "post", "put", "patch", "delete"}


def _schema() -> dict:
    # Through JSON, as a client reads it (status codes as strings).
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", method, operation


def _plain_string(parameter: dict) -> bool:
    """A parameter no value of which can be refused (any text): a str path segment."""
    schema = parameter.get("schema", {})
    return schema.get("type") == "string" and not (
        set(schema) & {"enum", "pattern", "minLength", "maxLength", "format"}
    )


def expected_statuses(method: str, operation: dict) -> set[str]:
    """What any operation of this API can answer besides its success."""
    parameters = operation.get("parameters", [])
    expected = {"401", "403", "500"}  # no or a bad key; a role without the right; a bug
    if any(p["in"] == "path" for p in parameters):
        expected.add("404")  # a record that is not there, or not the caller's
    if "requestBody" in operation or not all(_plain_string(p) for p in parameters):
        expected.add("422")  # a value refused
    if method == "post":
        expected.add("413")  # a body over the limit
    return expected


def test_the_schema_documents_the_error_shape_once():
    schema = _schema()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"detail", "code", "fields"}
    assert error["properties"]["fields"]["type"] == "object"
    assert [name for name in schema["components"]["schemas"] if "Error" in name] == ["ErrorOut"]


def test_every_operation_declares_every_error_status_it_can_answer():
    missing = {}
    for label, method, operation in _operations(_schema()):
        lacking = expected_statuses(method, operation) - set(operation["responses"])
        if lacking:
            missing[label] = sorted(lacking)
    assert missing == {}


def test_every_error_response_is_the_error_schema_in_json():
    wrong = []
    for label, _method, operation in _operations(_schema()):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = response.get("content", {})
            if list(content) != ["application/json"]:
                wrong.append((label, status, list(content)))
            elif content["application/json"]["schema"] != {"$ref": ERROR_REF}:
                wrong.append((label, status, content["application/json"]["schema"]))
    assert wrong == []


def test_every_success_has_a_body_documented_json_or_a_file():
    undocumented = []
    for label, _method, operation in _operations(_schema()):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                continue
            content = response.get("content", {})
            if not content:
                undocumented.append((label, status, "no content"))
            for media_type, body in content.items():
                is_file = body.get("schema") == {"type": "string", "format": "binary"}
                if media_type != "application/json" and not is_file:
                    undocumented.append((label, status, media_type))
                if media_type == "application/json" and is_file:
                    undocumented.append((label, status, "bytes as JSON"))
    assert undocumented == []


def test_a_document_download_is_documented_as_a_file_of_each_type_a_document_can_be():
    download = _schema()["paths"]["/api/v1/documents/{version_id}/download"]["get"]
    content = download["responses"]["200"]["content"]
    assert "application/json" not in content
    assert {"application/pdf", "image/png", "image/jpeg", "image/tiff"} <= set(content)
    assert all(body["schema"]["format"] == "binary" for body in content.values())


@pytest.mark.django_db
def test_the_served_schema_is_the_one_checked_here():
    served = Client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json()["paths"].keys() == _schema()["paths"].keys()


def test_the_rule_catches_an_operation_that_forgets_a_status():
    operation = {
        "parameters": [{"in": "path", "name": "id", "schema": {"type": "integer"}}],
        "responses": {"200": {}, "401": {}, "403": {}, "500": {}},
    }
    assert expected_statuses("post", operation) - set(operation["responses"]) == {
        "404",
        "413",
        "422",
    }
