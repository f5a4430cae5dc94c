"""The JSON API (/api/v1): bearer tokens, schemes, records, bulk import, OpenAPI document.

`views.init_app(app)` registers it; `describe` turns a compiled scheme into JSON and JSON
Schema; `openapi` builds the OpenAPI 3.1 document from the loaded schemes.
"""
