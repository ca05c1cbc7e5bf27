# nameko 2.14's pytest plugin no longer monkey-patches eventlet: do it before anything imports socket/threading.
import eventlet

eventlet.monkey_patch()
