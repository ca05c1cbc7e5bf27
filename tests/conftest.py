# nameko 2.14's pytest plugin no longer monkey-patches eventlet: do it before anything imports socket/threading.
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

# the test suite is a test system: test endpoints on, rate limits off, a known key for signed-in accounts
os.environ.setdefault("PAHT_ENV", "test")
os.environ.setdefault("PAHT_ACCOUNT_SECRET", "paht-tests-account-secret")

pytest_plugins = ["tests.oidc_helpers"]   # the `provider` fixture (an identity provider on loopback)


import pytest  # noqa: E402

from paht import clock, settings  # noqa: E402


@pytest.fixture(autouse=True)
def started_at_the_chosen_instant(tmp_path_factory):
    """With PAHT_CLOCK_START, every test's time starts there (a test may still install its own clock)."""
    if settings.clock_start() is None:
        yield
        return
    clock.set_clock(clock.ControlledClock(tmp_path_factory.mktemp("clock") / "clock.json"))
    yield
    clock.set_clock(None)
