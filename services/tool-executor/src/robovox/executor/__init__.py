"""RoboVox tool executor: validates the model's function calls, runs them through
the ROS adapter, and decides what goes back to the model."""
