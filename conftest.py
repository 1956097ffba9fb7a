"""Fixtures for every test suite in the repository (services, sim, end-to-end)."""

pytest_plugins = ["robovox.shared.testing.fixtures"]
