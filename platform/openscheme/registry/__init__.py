"""The beneficiary registry: households and individuals of a scheme, stored, searched, audited."""
