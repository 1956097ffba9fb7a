"""``robovox``: read a RoboVox Redis the way people ask about it (see ``robovox --help``)."""
