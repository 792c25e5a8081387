"""Updates and cancels built from the alert they refer to (alerts.md, "Lifecycle").

The relay validates an update or a cancel like any alert of its kind (a passenger cancel
still needs ``flight``, ``subjects`` and ``requested_action``), gives it its own
distribution (a unit not addressed by the cancel never receives it) and requires the
same origin unit and kind. So an officer should not write it by hand:

- :func:`cancel_of` builds the cancel from the referenced alert: its content, kind,
  distribution and TLP are repeated, ``msg_type`` is ``cancel``, ``references`` the
  alert's id, ``summary`` the reason given (else "Cancelled: " and the original
  summary, in the officer's language), ``sent_at`` left for :mod:`clients.fill_in`,
  and ``expires_at`` dropped (a withdrawal does not expire with what it withdraws).
- :func:`update_of` builds the update: the referenced alert's content, where each
  top-level field written in the officer's change file replaces the original's whole
  field (write the whole ``flight`` or ``subjects`` to change one of their parts),
  ``msg_type`` ``update`` and ``references`` the alert's id.

Both drop what the relay sets (``alert_id``, ``origin_unit``, ``received_at``, ``seq``),
and the marks of data protection (``masked_at``, ``reduced_at``, ``personal_unavailable``,
protection.md): a masked original gives a change without its personal fields, which the
relay then asks for (write the whole ``subjects`` in the change file).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from clients.i18n import Translator, register
from relay.contract.fields import RELAY_FIELDS

__all__ = ["PROTECTION_MARKS", "SUMMARY_LIMIT", "cancel_of", "update_of"]

SUMMARY_LIMIT: Final = 2000  # alerts.md: summary, 1 to 2000 characters
# What the relay adds to an alert it shows without its personal fields (protection.md).
PROTECTION_MARKS: Final = frozenset({"masked_at", "reduced_at", "personal_unavailable"})

register({
    "amend.cancelled": ("Cancelled: {summary}", "Annulée : {summary}"),
})


def _content(original: Mapping[str, Any]) -> dict[str, Any]:
    """The original's fields a client may send, without those of its own sending."""
    content = {key: copy.deepcopy(value) for key, value in original.items()
               if key not in RELAY_FIELDS and key not in PROTECTION_MARKS
               and key not in ("sent_at", "references")}
    content.pop("msg_type", None)
    return content


def cancel_of(original: Mapping[str, Any], alert_id: str, *, reason: str | None,
              t: Translator) -> dict[str, Any]:
    """The cancel of ``original`` (whose id is ``alert_id``); see the module doc."""
    cancel = _content(original)
    cancel.pop("expires_at", None)
    if reason is not None:
        cancel["summary"] = reason
        cancel.pop("language", None)  # the reason is in whatever language it was typed
    else:
        summary = t("amend.cancelled", summary=original.get("summary", ""))
        cancel["summary"] = summary[:SUMMARY_LIMIT]
    cancel["msg_type"] = "cancel"
    cancel["references"] = alert_id
    return cancel


def update_of(original: Mapping[str, Any], alert_id: str,
              changes: Mapping[str, Any]) -> dict[str, Any]:
    """The update of ``original`` with ``changes``' top-level fields; see the module doc."""
    update = _content(original)
    update.update(copy.deepcopy(dict(changes)))
    update["msg_type"] = "update"
    update["references"] = alert_id
    return update
