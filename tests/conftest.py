# nameko 2.14's pytest plugin no longer monkey-patches eventlet: do it before anything imports socket/threading.
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

# the test suite is a test system: test endpoints on, rate limits off, a known key for signed-in accounts
os.environ.setdefault("PAHT_ENV", "test")
os.environ.setdefault("PAHT_ACCOUNT_SECRET", "paht-tests-account-secret")

pytest_plugins = ["tests.oidc_helpers"]   # the `provider` fixture (an identity provider on loopback)
