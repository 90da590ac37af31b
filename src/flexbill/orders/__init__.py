"""Orders: what a customer checks out, priced from the catalog, fulfilled by subscriptions."""
