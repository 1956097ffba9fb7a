"""One robot's voice, kept alive for as long as it is wanted: the supervisor that
opens, recycles and replaces the robot's Realtime sessions, the inbox consumer
that tells the live session the robot's results, alerts and messages in order,
the session state it publishes (the session hash, ``robovox.session``), and the
facade the HTTP API and the clients call."""
