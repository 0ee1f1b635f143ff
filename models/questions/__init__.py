"""Questions to the contact point ("❓ Vraag stellen") and the organisers who answer them.

- ``entities.py``: ``ContactPerson`` (an organiser who is the fixed contact for a theme or for a
  network), ``Question`` (one member's question and where it stands) and ``QuestionMessage``
  (the thread: the question, answers and replies);
- ``operations.py``: asking (and where a question goes), answering, replying, marking it solved,
  who may read or answer a question, the contact persons, the sweep that reminds and escalates;
- ``working_days.py``: "open for two working days" on the service's clock;
- ``figures.py``: the time to a first answer per theme (median and 90th percentile);
- ``privacy.py``: a member's questions in their data export, and forgetting them.
"""
