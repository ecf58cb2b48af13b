"""Dramatiq broker set-up and thin actors that call pipeline handlers."""
