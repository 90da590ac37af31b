"""``/v1/payment-methods`` and the customers' auto-charge switch (flexbill's addition)."""
