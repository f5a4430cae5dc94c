"""Vouchers: issued from the declared voucher set, redeemed once (a database constraint), reimbursed per period."""
