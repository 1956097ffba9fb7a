"""One robot's audio, outliving its Realtime sessions: the audio hub that decides
who hears the model (clients, the robot's speaker) and whose microphone the model
hears, and the robot's own microphone and speaker as its profile names them."""
