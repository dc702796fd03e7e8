"""The privacy officer's workspace: queue, replies on the requester's channel, notifications, live handoff."""
