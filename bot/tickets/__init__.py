"""Tickets: the one ticket service, its rules, the actions' desk and turn-store factory, the queue."""
