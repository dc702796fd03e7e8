"""Deadlines, the clock they are computed with, and the sweeper that reminds the officer."""
