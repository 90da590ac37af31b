"""General subscriptions of plan prices: items, terms, trials, renewals, suspension."""
