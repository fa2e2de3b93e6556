"""The Zalo channel: a client for the Zalo Bot Platform API (client.py, which says what it
assumes of the API) and the channel run on it (channel.py)."""
