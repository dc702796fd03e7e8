"""What the assistant does for each understood message. Channel-agnostic: never imports a channel."""
