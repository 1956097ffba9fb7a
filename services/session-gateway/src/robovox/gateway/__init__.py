"""The session gateway: one Realtime session over WebRTC per robot, kept alive and
told everything the robot's model must hear.

- ``realtime/``: one Realtime session with the provider (peer, signaling, its
  server events, the response sequencer) and the logs it writes;
- ``robot/``: one robot's voice, kept alive across sessions (the supervisor, the
  inbox, the session state it publishes);
- ``clients/``: the consoles and Realtime pages joined to a robot;
- ``audio/``: who hears the model and whose microphone it hears;
- ``calls/``: the model's function calls into Redis;
- ``http/``: the HTTP API and the client endpoints;
- ``service.py``: the process, which builds all of them.

The words used here are in ``docs/glossary.md``.
"""
