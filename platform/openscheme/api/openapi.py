"""The OpenAPI 3.1 document of /api/v1, generated from the routes and the loaded schemes.

Besides the generic paths, every scheme gets component schemas of its record
(`TzChfRecord`, `TzChfMember`) built from its field declarations - types, enums
of choices, patterns, bounds, required fields - and concrete paths
(`/api/v1/schemes/tz-chf/records`) whose bodies use them, so a client generator
produces one typed `registerTzChf` call per scheme.
"""

from __future__ import annotations

from ..definitions.model import Scheme
from .describe import component_name, record_schemas

API_VERSION = "1.0.0"
# timestamps are the server's local time without an offset (not an RFC 3339 date-time, which needs one)
LOCAL_TIME = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
              "description": "The server's local time, YYYY-MM-DDThh:mm:ss (no offset)."}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def response(description: str, schema: dict | None = None, headers: dict | None = None) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = json_content(schema)
    if headers:
        out["headers"] = headers
    return out


ERROR_RESPONSES = {
    "BadRequest": "The request cannot be understood (bad JSON: line, column and position are given; a text "
                  "that cannot be stored: its path).",
    "Unauthorized": "No token, or an unknown or expired one.",
    "Forbidden": "The user's role does not allow this, for this scheme or location.",
    "NotFound": "No such scheme or record.",
    "Conflict": "The record changed meanwhile, or is already inactive.",
    "PreconditionFailed": "If-Match does not name the record's current version (ETag).",
    "PreconditionRequired": "Send If-Match with the record's version (ETag).",
    "TooManyRequests": "Too many failed sign-ins for this user: wait (see Retry-After).",
}


def common_schemas() -> dict:
    nullable_text = {"type": ["string", "null"]}
    return {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["status", "code", "message"],
                "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                               "message": {"type": "string", "description": "In the request's language."},
                               "line": {"type": "integer"}, "column": {"type": "integer"}, "position": {"type": "integer"},
                               "row_version": {"type": "integer"}},
            }},
        },
        "FieldError": {
            "type": "object", "required": ["path", "field", "code", "message"],
            "properties": {"path": {"type": "string", "examples": ["members[2].dob"]}, "field": {"type": "string"},
                           "code": {"type": "string", "pattern": "^E8[0-9]{2}$",
                                    "description": "See docs/error-codes.md (E801 required ... E811 duplicate)."},
                           "message": {"type": "string"}},
        },
        "ValidationErrors": {
            "type": "object", "required": ["error", "errors"],
            "properties": {"error": {"$ref": "#/components/schemas/Error/properties/error"},
                           "errors": {"type": "array", "items": ref("FieldError")}},
        },
        "TokenRequest": {
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string", "maxLength": 64}, "password": {"type": "string"},
                           "name": {"type": "string", "maxLength": 64, "description": "What the token is for."}},
        },
        "Token": {
            "type": "object", "required": ["token", "token_type"],
            "properties": {"token": {"type": "string"}, "token_type": {"const": "Bearer"},
                           "expires_at": LOCAL_TIME},
        },
        "SchemeSummary": {
            "type": "object", "required": ["code", "version", "title", "unit"],
            "properties": {"code": {"type": "string"}, "version": {"type": "string"}, "content_hash": {"type": "string"},
                           "title": {"type": "string"}, "description": {"type": "string"},
                           "unit": {"enum": ["individual", "household", "group"]},
                           "benefit_kinds": {"type": "array", "items": {"type": "string"}},
                           "languages": {"type": "array", "items": {"type": "string"}},
                           "country": nullable_text, "currency": {"type": "string"}, "href": {"type": "string"}},
        },
        "SchemeList": {"type": "object", "required": ["schemes"],
                       "properties": {"schemes": {"type": "array", "items": ref("SchemeSummary")}}},
        "FieldDescription": {
            "type": "object", "required": ["name", "type", "label", "labels", "required"],
            "properties": {
                "name": {"type": "string"}, "type": {"type": "string"}, "value_type": {"type": "string"},
                "scope": {"enum": ["unit", "member"]}, "label": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "required": {"type": "boolean"}, "required_when": {"type": "string"}, "relevant": {"type": "string"},
                "constraint": {"type": "string"}, "calculate": {"type": "string"},
                "min": {"type": ["number", "string"]}, "max": {"type": ["number", "string"]},
                "min_length": {"type": "integer"}, "max_length": {"type": "integer"}, "pattern": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "required": ["value", "label"], "properties": {
                    "value": {"type": "string"}, "label": {"type": "string"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "columns": {"type": "object"}}}},
                "choice_filter": {"type": "object", "properties": {"column": {"type": "string"}, "field": {"type": "string"}}},
                "location_level": {"type": "string"}, "unique": {"type": "boolean"},
            },
        },
        "SchemeDescription": {
            "allOf": [ref("SchemeSummary")],
            "type": "object",
            "properties": {
                "fields": {"type": "array", "items": ref("FieldDescription")},
                "members": {"type": ["object", "null"], "properties": {
                    "min": {"type": "integer"}, "max": {"type": "integer"}, "label": {"type": "string"},
                    "fields": {"type": "array", "items": ref("FieldDescription")}}},
                "roles": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {"type": "string"}, "min": {"type": "integer"},
                    "max": {"type": ["integer", "null"]}}}},
                "rules": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {"type": "string"}, "formula": {"type": "string"},
                    "reason": {"type": "string"}}}},
                "record_schema": {"type": "string", "description": "JSON pointer to the record's schema in this document."},
            },
        },
        "Record": {
            "type": "object", "additionalProperties": True,
            "description": "A record in the scheme's shape: its fields, and `members` (each with `roles`) for "
                           "household schemes. Each scheme's exact shape is the component <Scheme>Record.",
        },
        "RecordEnvelope": {
            "type": "object", "required": ["uid", "scheme", "row_version", "active", "record"],
            "properties": {
                "uid": {"type": "string", "pattern": "^[HP][0-9A-Z]{10}$"}, "scheme": {"type": "string"},
                "scheme_version_id": {"type": "integer"},
                "row_version": {"type": "integer", "description": "Send it back in If-Match to update."},
                "active": {"type": "boolean"}, "location_code": {"type": ["string", "null"]},
                "location_path": {"type": "string"},
                "created_at": LOCAL_TIME, "updated_at": LOCAL_TIME,
                "record": ref("Record"),
                "members": {"type": "array", "items": {"type": "object", "properties": {
                    "uid": {"type": "string"}, "position": {"type": "integer"},
                    "roles": {"type": "array", "items": {"type": "string"}}}}},
            },
        },
        "RecordPage": {
            "type": "object", "required": ["records", "page", "has_more"],
            "properties": {"records": {"type": "array", "items": ref("RecordEnvelope")}, "page": {"type": "integer"},
                           "page_size": {"type": "integer"}, "has_more": {"type": "boolean"},
                           "next": {"type": ["string", "null"]}},
        },
        "Deactivation": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}},
        "ImportIssue": {
            "type": "object", "required": ["row", "column", "path", "code", "message", "status"],
            "properties": {"row": {"type": "integer", "description": "Row of the file (the header is row 1)."},
                           "column": {"type": "string"}, "path": {"type": "string"}, "code": {"type": "string"},
                           "message": {"type": "string"}, "status": {"enum": ["error", "skipped"]}},
        },
        "ImportReport": {
            "type": "object", "required": ["rows", "records", "created", "skipped", "failed", "report"],
            "properties": {
                "scheme": {"type": "string"}, "file": {"type": "string"}, "rows": {"type": "integer"},
                "records": {"type": "integer"}, "created": {"type": "integer"},
                "skipped": {"type": "integer", "description": "Already imported."}, "failed": {"type": "integer"},
                "individuals": {"type": "integer"}, "issues": {"type": "integer"},
                "file_error": {"type": ["string", "null"]}, "seconds": {"type": "number"},
                "issues_truncated": {"type": "boolean"}, "report": {"type": "array", "items": ref("ImportIssue")},
            },
        },
    }


def parameters() -> dict:
    return {
        "code": {"name": "code", "in": "path", "required": True, "description": "The scheme's code.",
                 "schema": {"type": "string"}},
        "uid": {"name": "uid", "in": "path", "required": True, "description": "The record's id (H... or P...).",
                "schema": {"type": "string", "pattern": "^[HPhp][0-9A-Za-z]{10}$"}},
        "lang": {"name": "lang", "in": "query", "required": False,
                 "description": "Language of messages and labels (else Accept-Language, else the user's).",
                 "schema": {"type": "string"}},
        "acceptLanguage": {"name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"}},
        "q": {"name": "q", "in": "query", "required": False,
              "description": "Record id, or a unique field's value, or the start of a searchable text field.",
              "schema": {"type": "string"}},
        "page": {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
        "pageSize": {"name": "page_size", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        "ifMatch": {"name": "If-Match", "in": "header", "required": True,
                    "description": "The record's ETag (its row_version), from the last read.",
                    "schema": {"type": "string"}},
        "ifMatchOptional": {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}},
    }


def p(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def r(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


ETAG = {"ETag": {"description": "The record's row_version, for If-Match.", "schema": {"type": "string"}}}
LANG = [p("lang"), p("acceptLanguage")]


def operation(op_id: str, summary: str, tag: str, responses: dict, *, params=(), body=None,
              permission: str | None = None, public: bool = False) -> dict:
    out: dict = {"operationId": op_id, "summary": summary, "tags": [tag], "parameters": [*params, *LANG],
                 "responses": {**responses, "401": r("Unauthorized"), "default": r("Error")}}
    if permission:
        out["description"] = f"Permission: `{permission}`."
    if body is not None:
        out["requestBody"] = body
    if public:
        out["security"] = []
        del out["responses"]["401"]
    return out


def record_body(schema: dict) -> dict:
    return {"required": True, "content": json_content(schema)}


def generic_paths() -> dict:
    bad, forbidden, missing = r("BadRequest"), r("Forbidden"), r("NotFound")
    invalid = r("ValidationErrors")
    envelope = response("The stored record.", ref("RecordEnvelope"), ETAG)
    return {
        "/api/v1/token": {
            "post": operation("createToken", "Sign in: a bearer token for a username and password", "auth", {
                "201": response("A new token; only its SHA-256 is stored, so keep it.", ref("Token")),
                "400": bad, "401": response("Wrong username or password.", ref("Error")),
                "429": r("TooManyRequests")}, body=record_body(ref("TokenRequest")), public=True),
            "delete": operation("revokeToken", "Revoke the token of this request", "auth",
                                {"204": {"description": "Revoked."}}, permission="schemes.view"),
        },
        "/api/v1/openapi.json": {
            "get": operation("getOpenApi", "This document", "meta",
                             {"200": response("OpenAPI 3.1", {"type": "object"})}, permission="schemes.view"),
        },
        "/api/v1/schemes": {
            "get": operation("listSchemes", "The schemes visible to the user", "schemes",
                             {"200": response("Schemes", ref("SchemeList"))}, permission="schemes.view"),
        },
        "/api/v1/schemes/{code}": {
            "get": operation("getScheme", "A scheme's fields, types, choices, labels and rules", "schemes",
                             {"200": response("The compiled scheme", ref("SchemeDescription")), "403": forbidden,
                              "404": missing}, params=[p("code")], permission="schemes.view"),
        },
        "/api/v1/schemes/{code}/records": {
            "get": operation("searchRecords", "Search records (within the user's locations)", "records",
                             {"200": response("A page of records", ref("RecordPage")), "400": bad, "403": forbidden,
                              "404": missing}, params=[p("code"), p("q"), p("page"), p("pageSize")],
                             permission="registry.view"),
            "post": operation("registerRecord", "Register a record", "records",
                              {"201": response("Registered.", ref("RecordEnvelope"),
                                               ETAG | {"Location": {"schema": {"type": "string"}}}),
                               "400": bad, "403": forbidden, "404": missing, "422": invalid},
                              params=[p("code")], body=record_body(ref("Record")), permission="registry.edit"),
        },
        "/api/v1/schemes/{code}/import": {
            "post": operation("importRecords", "Bulk import of a CSV or XLSX file (see docs/import.md)", "import",
                              {"200": response("The per-row report", ref("ImportReport")), "400": bad,
                               "403": forbidden, "404": missing,
                               "422": response("The file cannot be imported (unreadable, or wrong columns).",
                                               ref("ImportReport"))},
                              params=[p("code")], permission="registry.import",
                              body={"required": True, "content": {"multipart/form-data": {"schema": {
                                  "type": "object", "required": ["file"],
                                  "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}),
        },
        "/api/v1/records/{uid}": {
            "get": operation("getRecord", "A record", "records",
                             {"200": envelope, "403": forbidden, "404": missing},
                             params=[p("uid")], permission="registry.view"),
            "put": operation("updateRecord", "Replace a record's values", "records",
                             {"200": envelope, "400": bad, "403": forbidden, "404": missing, "409": r("Conflict"),
                              "412": r("PreconditionFailed"), "422": invalid, "428": r("PreconditionRequired")},
                             params=[p("uid"), p("ifMatch")], body=record_body(ref("Record")),
                             permission="registry.edit"),
        },
        "/api/v1/records/{uid}/deactivate": {
            "post": operation("deactivateRecord", "Deactivate a record", "records",
                              {"200": envelope, "403": forbidden, "404": missing, "409": r("Conflict"),
                               "412": r("PreconditionFailed")},
                              params=[p("uid"), p("ifMatchOptional")],
                              body={"required": False, "content": json_content(ref("Deactivation"))},
                              permission="registry.deactivate"),
        },
    }


def scheme_paths(scheme: Scheme, name: str) -> dict:
    title = scheme.title.get("en", scheme.default_language)
    envelope = f"{name}RecordEnvelope"
    return {
        f"/api/v1/schemes/{scheme.code}/records": {
            "get": operation(f"search{name}", f"Search {title} records", scheme.code, {
                "200": response("A page of records", {
                    "allOf": [ref("RecordPage")],
                    "properties": {"records": {"type": "array", "items": ref(envelope)}}}),
                "400": r("BadRequest"), "403": r("Forbidden")},
                params=[p("q"), p("page"), p("pageSize")], permission="registry.view"),
            "post": operation(f"register{name}", f"Register a {title} record", scheme.code, {
                "201": response("Registered.", ref(envelope), ETAG), "400": r("BadRequest"),
                "403": r("Forbidden"), "422": r("ValidationErrors")},
                body=record_body(ref(f"{name}Record")), permission="registry.edit"),
        },
    }


def build_document(schemes: list[Scheme], lang: str = "en") -> dict:
    schemas = common_schemas()
    paths = generic_paths()
    tags = [{"name": "auth"}, {"name": "meta"}, {"name": "schemes"}, {"name": "records"}, {"name": "import"}]
    for scheme in sorted(schemes, key=lambda s: s.code):
        name = component_name(scheme.code)
        schemas.update(record_schemas(scheme))
        schemas[f"{name}RecordEnvelope"] = {"allOf": [ref("RecordEnvelope")],
                                            "properties": {"record": ref(f"{name}Record")}}
        paths.update(scheme_paths(scheme, name))
        tags.append({"name": scheme.code, "description": scheme.title.get(lang, scheme.default_language)})
    responses = {name: response(text, ref("Error")) for name, text in ERROR_RESPONSES.items()}
    responses["Error"] = response("An error, as JSON.", ref("Error"))
    responses["ValidationErrors"] = response("The record was not saved: one entry per error.", ref("ValidationErrors"))
    return {
        "openapi": "3.1.0",
        "info": {"title": "openscheme API", "version": API_VERSION,
                 "description": "Registration and look-up of beneficiaries of the schemes declared in YAML. "
                                "Authenticate with POST /api/v1/token, then send Authorization: Bearer <token>."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A token from POST /api/v1/token."}},
            "schemas": schemas,
            "parameters": parameters(),
            "responses": responses,
        },
    }
