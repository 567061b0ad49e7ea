"""Private helpers shared across hookmock's layers; not part of the public API.

- :mod:`.headers`: case-insensitive header access over whatever a caller holds;
- :mod:`.bodies`: hostile-but-legal JSON bodies (same JSON, other bytes);
- :mod:`.overrides`: ``a__b=value`` keyword overrides for generated payloads (and ``ABSENT``);
- :mod:`.sqlite`: the ``BEGIN IMMEDIATE`` transaction helper of the delivery log and the emulator store,
  the busy wait, and the "locked" and "not hookmock's database" checks of a ``--db`` file;
- :mod:`.secret_text`: the one-line UTF-8 check of a secret a user typed (CLI and pytest plugin);
- :mod:`.tls`: a test CA and server certificates made at run time;
- :mod:`.serving`: werkzeug's ``make_server`` that raises instead of exiting.

These sit at the bottom of the layering: they import the standard library, third-party packages,
:mod:`hookmock.clock` and :mod:`hookmock.errors` only, never another hookmock layer.  Importing this package
imports none of them.
"""
