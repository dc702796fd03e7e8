"""Channels translate between a wire format and InboundMessage / OutboundMessage. They know nothing of
intents or tickets."""
