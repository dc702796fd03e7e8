"""Identity verification by a one-time code mailed to the address: hashing, expiry, attempts, rate limits."""
