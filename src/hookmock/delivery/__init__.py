"""Delivery: the pure state machine and the SQLite delivery log, and the drivers that join them.

- :mod:`.machine`: the state machine (phases, rules from a profile, what to do at ``now``); no I/O;
- :mod:`.log`: :class:`~hookmock.delivery.log.DeliveryLog`, every delivery and attempt in SQLite
  (schema, writes, queries and recovery in the private ``_schema``, ``_writes``, ``_queries`` and
  ``_recovery`` modules), with :mod:`.records` (what it holds, and the providers' views of it) and
  :mod:`.cursor` (opaque pagination cursors);
- :mod:`.engine`: one attempt done right (sign the stored bytes, record in flight, send through a
  transport, complete) and the inline driver; :mod:`.pool`: the concurrent real-clock driver;
- :mod:`.result`: :class:`~hookmock.delivery.result.Delivery`, what the sender hands back;
- :mod:`.crashpoint`: opt-in crash points for the crash-safety tests.

This layer imports the profiles, the transports, the clock and the shared helpers, never a tool or
a front end (``tests/test_architecture.py``); :class:`hookmock.Sender` is the facade over it.
"""
