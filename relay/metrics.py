"""Prometheus metrics of one relay process, in a registry of its own (no globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from relay.contract.errors import ERROR_CODES

__all__ = ["RelayMetrics"]


class RelayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.open_connections = Gauge(
            "relay_open_connections", "Open stream connections.", registry=self.registry
        )
        self.alerts_published = Counter(
            "relay_alerts_published", "Alerts committed (duplicates excluded).",
            registry=self.registry,
        )
        self.receipts_published = Counter(
            "relay_receipts_published", "Receipts committed (duplicates excluded).",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "relay_deliveries", "Live event frames written to subscribers.", registry=self.registry
        )
        self.replayed = Counter(
            "relay_replayed_events", "Event frames sent while replaying history.",
            registry=self.registry,
        )
        self.commit_latency = Histogram(
            "relay_publish_commit_seconds", "From a publish being queued to its commit.",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "relay_commit_batch_events", "Events per group commit.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500), registry=self.registry,
        )
        self.errors = Counter(
            "relay_errors", "Error frames sent on the stream, by contract code.", ["code"], registry=self.registry
        )
        for code in ERROR_CODES:
            self.errors.labels(code=code)
        self.http_errors = Counter(
            "relay_http_errors", "HTTP API requests answered with an error object, by status.",
            ["status"], registry=self.registry,
        )
        self.refused_connections = Counter(
            "relay_refused_connections", "Connections closed at once: over a limit (label).",
            ["server", "limit"], registry=self.registry,
        )
        self.accept_errors = Counter(
            "relay_accept_errors", "Connections the system could not accept (out of file"
            " descriptors or memory).", registry=self.registry,
        )
        self.slow_consumers = Counter(
            "relay_slow_consumer_closes", "Subscribers closed with 4408.", registry=self.registry
        )

        self.delivery_records_dropped = Counter(
            "relay_delivery_records_dropped", "Delivery records dropped (buffer full during a store outage).",
            registry=self.registry,
        )

        # federation.md "Guarantees": lag is visible, per peer.
        self.federation_sent = Counter(
            "relay_federation_sent_events", "Events sent to a peer relay pulling from this one.",
            ["peer"], registry=self.registry,
        )
        self.federation_applied = Counter(
            "relay_federation_applied_events", "Events from a peer relay applied here.",
            ["peer"], registry=self.registry,
        )
        self.federation_refused = Counter(
            "relay_federation_refused_events", "Events from a peer relay refused (logged).",
            ["peer"], registry=self.registry,
        )
        self.federation_link_up = Gauge(
            "relay_federation_link_up", "1 while the link pulling from the peer is connected.",
            ["peer"], registry=self.registry,
        )
        self.federation_behind = Gauge(
            "relay_federation_events_behind", "The peer's head minus the seq up to which this"
            " relay has applied what it may receive (an upper bound of the events behind).",
            ["peer"], registry=self.registry,
        )
        self.federation_applied_age = Gauge(
            "relay_federation_last_applied_age_seconds", "Seconds since the link last applied an"
            " event from the peer (alarm on this, not only on the events behind).",
            ["peer"], registry=self.registry,
        )

        # docs/protection.md "Alarms": the jobs run, and what they did (counts, never content).
        self.protection_masked = Counter(
            "relay_protection_masked_alerts", "Passenger alerts masked by this process's jobs.",
            registry=self.registry,
        )
        self.protection_reduced = Counter(
            "relay_protection_reduced_alerts", "Alerts reduced by this process's jobs.",
            registry=self.registry,
        )
        self.protection_last_run = Gauge(
            "relay_protection_last_run_timestamp_seconds", "When this process last ran the"
            " masking and reduction jobs to the end (Unix time).", registry=self.registry,
        )
        self.protection_failures = Counter(
            "relay_protection_failed_runs", "Runs of the jobs that failed (retried at the next).",
            registry=self.registry,
        )
        self.protection_slowdown = Gauge(
            "relay_protection_slowdown", "How many times its base pause the jobs' current (or"
            " last) run pauses after a batch, giving way to slow publish commits (1: not slowed).",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
