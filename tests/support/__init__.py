"""Helpers the tests share: generated documents, managed processes, broker inspection."""
