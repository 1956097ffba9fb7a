"""The model's function calls into Redis, once per call id: the publisher (the
call life's publish script moves the call record to ``published`` and appends the
tool call and the conversation item) and the gateway's own Redis connection it is
written on, in the callback that received the call."""
