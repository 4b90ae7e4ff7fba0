"""Many requests at a Redis call at once (a gevent worker's hundreds) wait for a connection, not fail."""

import threading
import uuid

from state.redis_store import MAX_CONNECTIONS, RedisStore


def test_a_call_waits_for_a_free_connection_when_all_are_taken(redis_url):
    store = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    pool = store.redis.connection_pool
    taken = [pool.get_connection() for _ in range(MAX_CONNECTIONS)]  # as many requests mid-call
    outcome = {}
    caller = threading.Thread(target=lambda: outcome.update(left=store.acquire("update-gap:T1", 5.0)))
    caller.start()
    caller.join(0.2)
    waited = caller.is_alive()  # it waits: redis-py's default pool would raise "Too many connections"
    pool.release(taken.pop())
    caller.join(30)
    for connection in taken:
        pool.release(connection)
    store.close()

    assert waited
    assert outcome == {"left": 0.0}
