"""This installation itself: what must stay the same whatever its address or its database."""
