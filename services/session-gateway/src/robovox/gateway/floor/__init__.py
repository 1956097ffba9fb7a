"""What the console shows of a robot and the fleet, read from Redis: history pages and state."""
