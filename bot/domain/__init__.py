"""The words every layer shares: kinds, statuses, the dialogue state, the requester, the errors.

This package imports nothing of ours; every other layer may import it.
"""
