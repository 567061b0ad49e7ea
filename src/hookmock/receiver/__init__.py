"""hookmock.receiver: the fake receiver, its fault vocabulary, the fault proxy and sender assertions.

* :mod:`.server` — :class:`FakeReceiver` (threaded werkzeug server via pytest-httpserver, HTTP/HTTPS)
* :mod:`.faults` — ``Respond``, ``Delay``, ``Hang``, ``Reset``, ``CloseBeforeStatus``, ``Malformed``,
  ``Dribble``, ``Sequence``, ``parse_script``, seeded ``Chaos``; the virtual-clock time rule
* :mod:`.proxy` — :class:`FaultProxy` in front of a real handler (lost ack, duplicates, tamper, replay)
* :mod:`.record` — what was received, when, the verdict, and what was answered
* :mod:`.assertions` — ``assert_attempts``, ``assert_schedule``, ... judged from the record only

Nothing is imported here so that ``import hookmock.receiver`` stays cheap; use the modules, or the
names re-exported from :mod:`hookmock`.
"""
