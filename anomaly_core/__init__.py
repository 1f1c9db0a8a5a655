"""anomaly-platform core."""
