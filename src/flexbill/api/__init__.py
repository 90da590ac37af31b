"""The HTTP faces. Each face owns one wire format and calls the domain services."""
