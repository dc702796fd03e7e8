"""What lets several workers act as one assistant: shared rate limits, push fan-out, elected singletons.

Without ``PRIVACYBOT_REDIS_URL`` everything here works inside one process (memory storage, a local bus);
with it, the workers share rate limits and pushes through Redis. The elected singletons (IMAP polling,
Telegram long polling) hold a lease row in the database.
"""
