"""Organizations, business units and their live/test environments, API keys, permissions."""
