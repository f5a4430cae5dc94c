"""Policies and contributions of insurance schemes: enrolment, premium, payments, lifecycle, renewals,
employers and monthly contribution schedules (formal sector)."""
