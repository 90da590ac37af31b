"""Software licenses: products, keys, balances, activations and offline certificates."""
