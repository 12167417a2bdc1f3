"""Devices and their positions: the position and state store, tracks, the fleet's live view and the
downlink outbox to JT/T 808 terminals."""
