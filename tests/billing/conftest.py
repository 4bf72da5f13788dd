"""Billing tests use the personas of tests/conftest.py."""
