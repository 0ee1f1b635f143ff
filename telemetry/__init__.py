"""What the service tells a monitoring system (Prometheus' ``/metrics``): counters, histograms
and gauges that bot/, scheduler/ and web/ all report to.

It sits below them and above ``models/`` (it may read the database: the outbox counts), so any
of them may import it without importing each other; the composition root wires in what only it
knows (the leader status) and ``web/metrics.py`` serves the text.
"""
