"""Dialogs: where a member is in a flow that waits for typed input (a new event, an idea, the
check-in code, ...), stored in the database, at most one per member.

A dialog is a row per member (``entities.Dialog``): the flow, its step, the answers so far, the
steps behind (each with the answers as they were, for "◀ Terug"), when it lapses (the last
activity plus the flow's idle time, on the service's clock) and a version. It lives in the
database rather than in one process's memory so that it survives a restart or a deploy, and so
that behind a load balancer the next typed answer continues it on whichever instance receives it.

Every change is version-checked (``operations``): an instance that acts on a dialog another
instance has moved on meanwhile gets ``DialogChanged`` and its transaction changes nothing, rather
than silently overwriting the newer step. A lapsed dialog counts as none; its row is replaced or
deleted by the next write (``start``, ``end``, ``delete_expired``). ``/vergeetmij`` erases it with
the member (``ON DELETE CASCADE``).

The operations know nothing of Telegram: ``bot/dialogs.py`` is the bot's engine on top of them.
"""
