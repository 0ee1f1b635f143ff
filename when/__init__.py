"""Reading moments, times and durations as people type them, in Dutch or English.

``parsing`` is the one date parser and the one duration parser of the service: "12-3-2027 19:30",
"12 maart 19:30", "volgende week donderdag 20:00", "2 uur", "anderhalf uur", "tot 21:30", and the
short forms of the configuration ("24h", "7d"). Impossible or unclear input raises a
translatable ``DomainError`` that says why. Used by the bot's dialogs, broadcasts and the
configuration; knows nothing of Telegram or HTTP.
"""
