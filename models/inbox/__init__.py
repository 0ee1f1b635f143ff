"""The inbox: Telegram updates received by webhook, stored before they are acknowledged.

The mirror of the outbox: an update is a row (keyed by Telegram's ``update_id``) committed
before the webhook answers 200, so an acknowledged update survives a crash; a claim (who, until
when) and a processed mark make it handled once, however often Telegram delivers it again.
Nothing here knows what an update means: the payload is kept as Telegram sent it.
"""
