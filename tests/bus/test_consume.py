"""When a correlator run without --follow decides it has read its whole partition."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import api

from minerwatch.bus.consume import _read_to_end


class _Subscription:
    def __init__(self, delivered: int | None, pending: int) -> None:
        self.info = api.ConsumerInfo(
            name="c",
            stream_name="MINERWATCH",
            config=api.ConsumerConfig(),
            created=None,  # type: ignore[arg-type]  # not read
            delivered=None if delivered is None else api.SequenceInfo(consumer_seq=delivered, stream_seq=0),
            num_pending=pending,
        )

    async def consumer_info(self) -> api.ConsumerInfo:
        return self.info


@pytest.mark.parametrize(
    ("delivered", "pending", "received", "read"),
    [
        (10, 0, 10, True),  # everything delivered arrived
        (None, 0, 0, True),  # an empty partition
        (10, 3, 10, False),  # the server has more
        (12, 0, 10, False),  # two delivered messages are still on their way (a fetch timed out under load)
    ],
)
def test_the_partition_is_read_only_when_every_delivered_message_arrived(delivered, pending, received, read):
    assert asyncio.run(_read_to_end(_Subscription(delivered, pending), received)) is read  # type: ignore[arg-type]
