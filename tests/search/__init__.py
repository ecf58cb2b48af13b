"""Tests for the search package."""
