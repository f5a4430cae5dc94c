"""FHIR R4 mapping: one small module per resource, each turning openscheme rows (and the scheme's
YAML definition) into plain FHIR JSON dicts - or, for the two resources a client submits (Claim,
CoverageEligibilityRequest), FHIR JSON into what `ClaimService` and `coverage()` take.

The resources are built as dicts (no runtime dependency); the tests parse every one of them with
`fhir.resources.R4B` model classes. The HTTP side is `openscheme.api.fhir_views` (/fhir/R4).
"""
