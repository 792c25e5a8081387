"""Clients of the relay for terminals and partner units.

- :mod:`clients.client`: the async library (reconnect, resume, dedupe, receipts), over
  :mod:`clients.connection`, with the errors of :mod:`clients.errors`.
- :mod:`clients.outbox`: the durable SQLite outbox of a terminal, each entry tied to its unit.
- :mod:`clients.fill_in`, :mod:`clients.amend`: what a terminal fills in before queueing
  (``sent_at``, relative times), and updates and cancels built from their alert.
- :mod:`clients.shown`: what a feed showed, to name an alert by its short form or seq.
- :mod:`clients.post_cli` and :mod:`clients.feed_cli`: the ``relay-post`` and
  ``relay-feed`` commands, speaking English and French (:mod:`clients.i18n`).
"""
