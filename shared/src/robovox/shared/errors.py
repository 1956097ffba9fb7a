class RoboVoxError(Exception):
    """Base of every RoboVox error."""
