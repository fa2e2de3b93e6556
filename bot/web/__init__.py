"""The VP office's web desk: another face on the services the chats use (handlers/)."""
