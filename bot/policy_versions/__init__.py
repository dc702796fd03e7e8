"""Policy versions: the archive of every text the assistant ran on, mailing an archived version to whoever
asks, and announcing a new version to every known account. Both mail through the delivery outbox."""
