"""Targeting: who in the registry is eligible for a scheme, set-based, with the reason for each exclusion."""
