"""Members: the people behind Telegram accounts."""

from models.members import changes as changes  # registers the change tracking (see its docstring)
