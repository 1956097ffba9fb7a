"""The gateway's HTTP API: the FastAPI app, a router per resource (robots and
their sessions, client secrets, Realtime calls, the console, health and stats),
the dependencies every route takes from ``app.state``, and the errors' JSON."""
