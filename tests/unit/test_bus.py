"""Settling a message over a connection that died must not kill the container (the broker redelivers it)."""
from __future__ import annotations

import pytest
from amqp.exceptions import ConnectionForced

from paht.bus import settle


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"),
                                   ConnectionForced("broker shutdown")])
def test_a_dead_connection_leaves_the_message_to_redelivery(error):
    def ack(message):
        raise error
    settle(ack, object())          # no exception


def test_other_errors_still_surface():
    def ack(message):
        raise ValueError("a bug")
    with pytest.raises(ValueError):
        settle(ack, object())
