"""The people joined to a robot: consoles and Realtime pages connected to the
gateway over WebRTC (the client connection), the client secrets that let them
in, the roster of each robot's clients, what a client may send, and the typed
``robovox.*`` events the gateway sends them (``docs/console.md``)."""
