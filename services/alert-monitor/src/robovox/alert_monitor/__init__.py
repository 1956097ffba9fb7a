"""RoboVox alert monitor: telemetry rules, spoken notices, the battery forecast."""
