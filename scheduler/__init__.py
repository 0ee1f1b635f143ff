"""Time-driven work: where a notification is sent, and the jobs that run on their own.

- ``dispatcher``: the outbox dispatcher (where a reminder, an offer, a notice is sent): claims due
  rows, hands them to a ``models.outbox.delivery.Delivery`` (the bot's), records each result;
- ``jobs``: the periodic sweeps (expired offers, fair-share release, digest, lapsed dialogs) on
  APScheduler;
- ``executor``: APScheduler's executor that lets a stop wait for running jobs.

Knows nothing of Telegram or HTTP: what to send through is injected by the composition root.
"""
