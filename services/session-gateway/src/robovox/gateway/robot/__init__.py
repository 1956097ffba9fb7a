"""One robot's voice, kept alive for as long as it is wanted: the supervisor that
opens, recycles and replaces the robot's Realtime sessions (with the opener that
gives a new one the conversation so far), the inbox consumer that tells the live
session the robot's results, alerts and messages in order, the session state it
publishes (the session hash, ``robovox.session``), the facade the HTTP API and
the clients call (``RobotVoice``), and the wiring that builds all of it."""
