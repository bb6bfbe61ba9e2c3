"""Bulk jobs: change many numbers in one request, each under its single-number rules."""
