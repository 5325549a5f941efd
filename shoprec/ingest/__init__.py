"""Object-level exactly-once ingestion of raw logs from the lake's ``incoming/`` zone.

Source-agnostic: a source supplies a line parser; this package reads S3 objects (streamed,
gzip by magic bytes, line by line in bounded memory), recognises content it has already
ingested under any key, lands events and quarantined lines, publishes to Kafka, and records
what it did per object and per content stream with S3 conditional writes.

* ``lines``          the parser contract (event, rejection, filtered) and line splitting
* ``reader``         streaming reads of one object version (ranged or gzip)
* ``store``          JSON documents in S3 with conditional writes (create-only, compare-and-set)
* ``streams``        content streams (fingerprint, committed offset, lease) and the object ledger
* ``engine``         ingests one object: identity, batches (land, quarantine, publish, commit)
* ``notifications``  SQS bodies (S3 notification, EventBridge, continuation) → object refs
* ``sweep``          finds what no notification brought, finalises unterminated tails
* ``status``         what is ingested, pending or in conflict; the reconciliation report
"""
