"""Tickets: references, the desk actions use, the turn store, and the officer's service functions."""
