"""HTTP helpers every HTTP edge shares (aiohttp and pydantic only, nothing of ours above the domain)."""
