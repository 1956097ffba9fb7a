"""Contracts shared by every RoboVox service: settings, stream keys, message models,
robot profiles and the consumer-group helper."""
