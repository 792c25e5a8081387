"""Federation of national relays (docs/federation.md): what a peer pulling from this
relay receives (:mod:`.outbound`), how a peer's events are checked before they are stored
here (:mod:`.inbound`), and the links that pull from peers (:mod:`.link`). The rules of
what crosses are pure, in :mod:`relay.contract.federation`; the SQL is
:mod:`relay.store.federation`'s."""
