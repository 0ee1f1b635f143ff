"""The public agenda page (``/``): the coming events, subscribe buttons, a filter by network."""
