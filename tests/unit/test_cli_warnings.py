"""Every `paht` command starts without the third-party deprecation notices (eventlet's, cryptography's DSA) and
still shows a warning of our own (issue 24)."""
import subprocess
import sys
import warnings

from paht.cli import quiet_third_party_warnings


def test_a_command_opens_without_third_party_notices():
    done = subprocess.run([sys.executable, "-c", "import sys; from paht.cli import main; sys.exit(main(sys.argv[1:]))",
                           "rules", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: paht rules" in done.stdout
    assert "Warning" not in done.stderr, done.stderr


def test_our_own_warnings_still_show():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_third_party_warnings()
        warnings.warn_explicit("Eventlet is deprecated (said by us)", DeprecationWarning, "paht/x.py", 1,
                               module="paht.x")
        warnings.warn_explicit("DSA is deprecated", UserWarning, "services/x.py", 1, module="services.x")
        warnings.warn_explicit("Eventlet is deprecated", DeprecationWarning, "nameko/messaging.py", 12,
                               module="nameko.messaging")
    assert [str(w.message) for w in caught] == ["Eventlet is deprecated (said by us)", "DSA is deprecated"]
