"""Usage records and their rating."""
