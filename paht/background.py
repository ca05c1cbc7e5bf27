"""Work a service goes on with after it has answered, in its container's managed threads."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from . import metrics


class Background(DependencyProvider):
    """Work that goes on after the answer (the record's announcement of a new report, a Zalo draft's report), in the container's
    managed threads, so stopping the service stops it too. `paht_background_tasks{service,task}` counts what is
    running: up from the spawn (before the answer goes out) until the thread ends, killed or not."""

    def get_dependency(self, worker_ctx):
        return self

    def spawn(self, fn, *args) -> None:
        running = metrics.BACKGROUND_TASKS.labels(self.container.service_name, fn.__name__)
        running.inc()
        try:
            thread = self.container.spawn_managed_thread(lambda: fn(*args), identifier=fn.__name__)
        except BaseException:
            running.dec()
            raise
        thread.link(lambda _: running.dec())   # also when killed before it ran (eventlet resolves the links)
