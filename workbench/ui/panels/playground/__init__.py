"""The Playground panel."""
