"""Benchmarks of the deployed callback path; run as scripts, never imported by the bot."""
