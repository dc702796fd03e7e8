"""The conversation: one turn at a time, from an inbound message to the replies."""
