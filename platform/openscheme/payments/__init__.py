"""Cash payments: cycles from the declared schedule, maker-checker approval, payroll files,
reconciliation, and a natural key that makes paying anyone twice impossible."""
