"""Reference data: locations, facilities, users and roles, catalogue, ICD-10."""
