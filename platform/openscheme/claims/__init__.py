"""Health insurance claims: automated adjudication from the scheme's declaration."""
