"""Tests of bot/sla."""
