"""Assets: physical units by serial number, their status and history."""
