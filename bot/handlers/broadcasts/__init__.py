"""/bericht for organisers: compose an announcement, choose who gets it, preview, send now or
later, follow it live, stop it.

The steps: 1) the text, with a photo or document if wanted (``compose``); 2) the audience
(``audience``); 3) the preview with the number of recipients, and *Nu versturen*, *Later
versturen* or *Annuleren* (``preview``); 4) a live progress message with *Stoppen*, and the final
report (``progress``).

Steps 1-3 are one dialog flow (``bot/dialogs.py``): where the organiser is, and which draft, is
stored in the database, so after a restart the next text, photo or typed moment continues where
they were; another command ends it (the draft stays: /bericht offers to continue it). Every
button carries its draft's id, so a button from before a restart still works.
``BroadcastProgress`` edits the progress messages from the database every few seconds, so it
also picks up where it was after a restart.
"""

from bot.handlers.broadcasts.compose import COMPOSE, new_broadcast
from bot.handlers.broadcasts.progress import PROGRESS_KEY, BroadcastProgress

__all__ = ["COMPOSE", "PROGRESS_KEY", "BroadcastProgress", "new_broadcast"]
