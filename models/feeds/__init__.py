"""Calendar feeds: personal feed tokens, and which events go in which feed."""
