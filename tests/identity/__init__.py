"""Tests of bot/identity."""
