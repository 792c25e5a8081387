"""Clients of the relay for terminals and partner units.

- :mod:`clients.client`: the async library (reconnect, resume, dedupe, receipts).
- :mod:`clients.outbox`: the durable SQLite outbox of a terminal.
- :mod:`clients.post_cli` and :mod:`clients.feed_cli`: the ``relay-post`` and
  ``relay-feed`` commands.
"""
