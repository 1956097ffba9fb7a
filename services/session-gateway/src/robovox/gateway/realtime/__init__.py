"""One Realtime session with the provider: the WebRTC peer and its signaling, the
session config built from the robot's profile, the RTP gate that drops unheard
audio, the response sequencer, the server events and their router (what they
make the gateway do), the provider calls held open, and the two logs a session
writes to Redis (the robot's conversation, its events stream). A session lives
for one provider call; the robot's supervisor (``robot/``) replaces it."""
