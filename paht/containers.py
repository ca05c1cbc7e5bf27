"""The nameko container every PAHT service runs in: HTTP requests have a worker pool of their own.

nameko 2.14 runs every entrypoint's workers in one pool of `max_workers`. HTTP requests waiting on a slow peer
(each up to PAHT_RPC_TIMEOUT_SECONDS) could fill it; each bus message delivered meanwhile then waited, unacknowledged,
for a worker, and with `max_workers` of them (the prefetch count) the broker sent the service nothing more. Here
HTTP entrypoints (`nameko.web.handlers.HttpRequestHandler`, `paht.web.JsonHttpHandler`) spawn into a pool of
PAHT_HTTP_WORKERS; RPC, event handlers and timers keep the `max_workers` pool.

Chosen by the nameko config key SERVICE_CONTAINER_CLS (`paht run` sets it; see paht.serve)."""
from __future__ import annotations

import logging

from eventlet.greenpool import GreenPool
from nameko.containers import ServiceContainer, WorkerContext
from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler

from . import settings

log = logging.getLogger(__name__)

CONTAINER_CLS = "paht.containers.PahtContainer"


class PahtContainer(ServiceContainer):

    def __init__(self, service_cls, config):
        super().__init__(service_cls, config)
        self.http_workers = settings.http_workers()
        self._http_pool = GreenPool(size=self.http_workers)

    def pool_for(self, entrypoint) -> GreenPool:
        return self._http_pool if isinstance(entrypoint, HttpRequestHandler) else self._worker_pool

    def spawn_worker(self, entrypoint, args, kwargs, context_data=None, handle_result=None):
        """nameko's `spawn_worker`, in the entrypoint's pool: a full pool makes only its own kind of work wait."""
        if self._being_killed:
            log.info("Worker spawn prevented due to being killed")
            raise ContainerBeingKilled()
        worker_ctx = WorkerContext(self, self.service_cls(), entrypoint, args, kwargs, data=context_data)
        log.debug("spawning %s", worker_ctx)
        gt = self.pool_for(entrypoint).spawn(self._run_worker, worker_ctx, handle_result)
        gt.link(self._handle_worker_thread_exited, worker_ctx)
        # every worker of either pool is in _worker_threads, so nameko's kill() kills both pools' workers
        self._worker_threads[worker_ctx] = gt
        return worker_ctx

    def stop(self):
        """nameko's graceful `stop`, waiting for the workers of both pools before the dependencies stop."""
        if self._died.ready():
            log.debug("already stopped %s", self)
            return
        if self._being_killed:
            log.debug("already being killed %s", self)
            try:
                self._died.wait()
            except Exception:  # noqa: BLE001 — a container that died with an error is stopped all the same
                pass
            return
        log.debug("stopping %s", self)
        self.entrypoints.all.stop()
        self._http_pool.waitall()
        self._worker_pool.waitall()
        self.dependencies.all.stop()
        self.subextensions.all.stop()
        self._kill_managed_threads()
        self.started = False
        if not self._died.ready():   # kill() may have sent it meanwhile
            self._died.send(None)

    def __repr__(self):
        return f"<PahtContainer [{self.service_name}] at 0x{id(self):x}>"
