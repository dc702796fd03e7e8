"""ZynorLink privacy assistant: channels, conversation, tickets, SLA and the officer workspace."""
