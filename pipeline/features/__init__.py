"""Turning validated records into model inputs."""
