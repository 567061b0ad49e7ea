"""hookmock's pytest plugin (registered under the name ``hookmock`` via the ``pytest11`` entry point;
``-p no:hookmock`` disables it).

Configuration, closest wins: ``@pytest.mark.hookmock(profile=, secret=, seed=, tls=, clock_start=)`` >
command line (``--hookmock-profile``, ``--hookmock-secret``, ``--hookmock-seed``, ``--hookmock-tls`` /
``--hookmock-no-tls``, ``--hookmock-clock-start``) > ini (``hookmock_profile``, ``hookmock_secret``,
``hookmock_seed``, ``hookmock_tls``, ``hookmock_clock_start``) > defaults (profile ``moda``, a secret
and seed derived from the test id, plain HTTP, the clock starting at the real time).

Fixtures: ``hookmock_settings``, ``hookmock_clock``, ``hookmock_profile``, ``hookmock_secret``,
``hookmock_events``, ``hookmock_verify``, ``hookmock_sender``, ``hookmock_make_sender``,
``hookmock_receiver``, ``hookmock_make_receiver``, ``hookmock_proxy``, ``hookmock_audit``,
``hookmock_scenario``, ``hookmock_emulator``.

pytest loads this module in every run of every project where hookmock is installed, and rewrites
the asserts of a plugin it loads with ``-p``: so it only re-exports :mod:`hookmock._plugin_hooks`
(hooks, options, fixture declarations; standard library and pytest only), whose fixtures import
their work from :mod:`hookmock._plugin_fixtures` when a test first uses one.
"""

from ._plugin_hooks import *  # noqa: F403
from ._plugin_hooks import __all__ as __all__
