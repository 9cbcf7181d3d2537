"""PubSub: subscribe, publish, patterns, RESP3 pushes."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import pytest

from diskdb import DiskDB, PubSub

pytestmark = pytest.mark.needs_pubsub


def next_message(ps: PubSub) -> Optional[Dict[str, Any]]:
    return ps.get_message(timeout=5.0)


@pytest.mark.parametrize("protocol", [2, 3])
def test_subscribe_publish_and_patterns(
    make_client: Callable[..., DiskDB], protocol: int
) -> None:
    r = make_client(protocol=protocol)
    with r.pubsub() as ps:
        ps.subscribe("py.news")
        assert next_message(ps) == {
            "type": "subscribe", "pattern": None, "channel": "py.news", "data": 1
        }
        ps.psubscribe("py.*")
        assert next_message(ps)["type"] == "psubscribe"
        assert r.publish("py.news", "hello") == 2
        assert next_message(ps) == {
            "type": "message", "pattern": None, "channel": "py.news", "data": "hello"
        }
        assert next_message(ps) == {
            "type": "pmessage", "pattern": "py.*", "channel": "py.news", "data": "hello"
        }
        assert ps.get_message(timeout=0.1) is None
        ps.unsubscribe()
        assert next_message(ps)["type"] == "unsubscribe"
        ps.punsubscribe()
        assert next_message(ps) == {
            "type": "punsubscribe", "pattern": None, "channel": "py.*", "data": 0
        }
    assert r.publish("py.news", "gone") == 0


def test_listen_yields_messages_in_order(r: DiskDB) -> None:
    with r.pubsub() as ps:
        ps.subscribe("py.seq")
        messages = ps.listen()
        assert next(messages)["type"] == "subscribe"
        for i in range(100):
            r.publish("py.seq", str(i))
        assert [next(messages)["data"] for _ in range(100)] == [str(i) for i in range(100)]
