"""Operator tools."""
