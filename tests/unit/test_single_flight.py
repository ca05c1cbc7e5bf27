"""paht.single_flight: callers asking for a key being worked out wait for that answer, or its failure; a claimed
key is finished by its claimer; nothing stays afterwards."""
import eventlet
import pytest

from paht.single_flight import SingleFlight


def test_callers_together_get_one_answer_and_then_it_is_worked_out_again():
    flight, done = SingleFlight(), []

    def work():
        done.append(1)
        eventlet.sleep(0.02)
        return len(done)
    threads = [eventlet.spawn(flight.run, "k", work) for _ in range(4)]
    assert [t.wait() for t in threads] == [1] * 4 and flight.running == {}
    assert flight.run("k", work) == 2


def test_a_failure_reaches_every_waiter_and_a_claim_is_finished_by_its_claimer():
    flight = SingleFlight()

    def failing():
        eventlet.sleep(0.02)
        raise OSError("disk")
    threads = [eventlet.spawn(flight.run, "k", failing) for _ in range(3)]
    for thread in threads:
        with pytest.raises(OSError):
            thread.wait()
    assert flight.running == {}
    assert flight.claim("k") and not flight.claim("k")
    waiter = eventlet.spawn(flight.run, "k", lambda: "not this")
    eventlet.sleep(0)
    assert flight.finish("k", lambda: "claimed") == "claimed" and waiter.wait() == "claimed"
