"""RoboVox ROS adapter: one rosbridge link per robot; commands, actions, telemetry."""
