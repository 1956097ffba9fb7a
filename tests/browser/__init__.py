"""Browser tests: headless Chromium against the gateway, isolated on loopback."""
