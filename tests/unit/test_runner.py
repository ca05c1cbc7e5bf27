"""`paht up`'s supervisor: a service that exits is restarted with backoff, the others are left alone."""
from pathlib import Path

from paht.runner import Supervisor


class FakeProcess:
    pids = iter(range(1000, 10**6))

    def __init__(self, name):
        self.name, self.pid, self.code, self.terminated = name, next(self.pids), None, False

    def poll(self):
        return self.code


class Harness:
    """A supervisor over fake processes, a fake clock and captured output."""

    def __init__(self, names=("intake", "routing")):
        self.now = 0.0
        self.started: list[FakeProcess] = []
        self.lines: list[str] = []
        self.fail_starts = 0
        self.supervisor = Supervisor(names, self.start, self.stop_all, out=self.lines.append, clock=lambda: self.now,
                                     log_dir=Path("/var/logs"))

    def start(self, name):
        if self.fail_starts:
            self.fail_starts -= 1
            raise OSError("no such file")
        process = FakeProcess(name)
        self.started.append(process)
        return process

    def stop_all(self, processes):
        for process in processes.values():
            process.terminated = True

    def current(self, name):
        return self.supervisor.processes.get(name)

    def kill(self, name, code=1):
        self.current(name).code = code

    def run(self, seconds, step=0.5):
        """Let time pass, polling as `up` does."""
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            self.supervisor.poll()

    def starts(self, name):
        return [p for p in self.started if p.name == name]


def restart_delays(harness, name, deaths):
    """Kill `name` right after each start; the delays the supervisor waited before each restart."""
    delays = []
    for _ in range(deaths):
        harness.kill(name)
        died_at = harness.now
        harness.supervisor.poll()
        before = len(harness.starts(name))
        while len(harness.starts(name)) == before:
            harness.now += 0.25
            harness.supervisor.poll()
        delays.append(harness.now - died_at)
    return delays


def test_a_dead_service_is_restarted_and_the_death_is_logged():
    harness = Harness()
    harness.supervisor.start_all()
    first = harness.current("intake")
    harness.kill("intake", code=3)
    harness.run(0.5)
    assert harness.current("intake") is None               # waiting out its delay
    harness.run(1)
    restarted = harness.current("intake")
    assert restarted is not None and restarted is not first and restarted.poll() is None
    died, back = harness.lines
    assert died == "intake: exited with code 3; restart attempt 1 in 1 s (log /var/logs/intake.log)"
    assert back.startswith("intake: restarted (attempt 1, pid ") and "/var/logs/intake.log" in back


def test_the_delay_doubles_and_is_capped():
    harness = Harness()
    harness.supervisor.start_all()
    assert restart_delays(harness, "intake", 8) == [1, 2, 4, 8, 16, 30, 30, 30]
    assert "restart attempt 8 in 30 s" in harness.lines[-2]


def test_the_delay_starts_over_after_a_stable_period():
    harness = Harness()
    harness.supervisor.start_all()
    assert restart_delays(harness, "intake", 3) == [1, 2, 4]
    harness.run(59)                       # not yet stable: the series goes on
    assert restart_delays(harness, "intake", 1) == [8]
    harness.run(60)                       # up for a minute: the next death is a new series
    assert restart_delays(harness, "intake", 2) == [1, 2]


def test_other_services_are_untouched():
    harness = Harness(("intake", "routing", "sla"))
    harness.supervisor.start_all()
    routing, sla = harness.current("routing"), harness.current("sla")
    restart_delays(harness, "intake", 4)
    assert harness.current("routing") is routing and harness.current("sla") is sla
    assert len(harness.starts("routing")) == len(harness.starts("sla")) == 1
    assert not routing.terminated and not sla.terminated
    assert all(line.startswith("intake:") for line in harness.lines)


def test_a_failed_start_is_retried_with_backoff():
    harness = Harness(("intake",))
    harness.supervisor.start_all()
    harness.fail_starts = 2
    harness.kill("intake")
    harness.run(1 + 2 + 4 + 0.5)
    assert harness.current("intake") is not None and len(harness.starts("intake")) == 2
    assert sum("could not start" in line for line in harness.lines) == 2
    assert "restart attempt 3 in 4 s" in harness.lines[-2]


def test_stop_stops_all_and_nothing_restarts_afterwards():
    harness = Harness(("intake", "routing", "sla"))
    harness.supervisor.start_all()
    harness.kill("sla")
    harness.supervisor.poll()                 # sla is waiting for its restart
    running = [harness.current("intake"), harness.current("routing")]
    harness.supervisor.stop()
    assert all(process.terminated for process in running)
    harness.run(120)
    assert len(harness.started) == 3          # no restart after stop()
