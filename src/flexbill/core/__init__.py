"""The kernel every domain uses: database, errors, money, clock, ids, pagination, filtering."""
