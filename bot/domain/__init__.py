"""The words every layer shares: kinds, statuses, the dialogue state, the requester, the errors. Imports nothing of ours."""
