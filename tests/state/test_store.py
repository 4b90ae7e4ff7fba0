"""The store's promises, each checked against SQLite and Redis alike."""

import threading
import time

from state import Task

NOW = time.time()
LEASE = 0.3  # seconds; short, because Redis's expiry runs on real time


def task(task_id="T1", channel="demo", **fields):
    return Task(task_id=task_id, channel=channel, status="STARTING", create_ts=1_700_000_000, **fields)


def test_the_first_claim_wins_and_the_next_waits(store):
    first = store.claim_channel("demo", "worker-a", LEASE)
    second = store.claim_channel("demo", "worker-b", LEASE)
    assert (first.won, first.task, first.stale_since) == (True, None, None)
    assert second.held_by_another and not second.won


def test_a_recorded_task_is_what_every_later_claim_gets(store):
    store.claim_channel("demo", "worker-a", LEASE)
    recorded = store.record_task(task(pub_bot_uid=4_294_967_295, sub_bot_uid=4_000_000_000, languages=[]), "worker-a")
    claim = store.claim_channel("demo", "worker-b", LEASE)
    assert claim.task == recorded
    assert (claim.task.pub_bot_uid, claim.task.languages) == (4_294_967_295, [])
    assert store.task_for_channel("demo") == recorded
    assert store.get_task("T1") == recorded
    assert store.running_tasks() == [recorded]


def test_a_released_claim_frees_the_channel_at_once(store):
    store.claim_channel("demo", "worker-a", 60)
    store.release_claim("demo", "worker-b")  # not its claim: nothing happens
    assert store.claim_channel("demo", "worker-c", 60).held_by_another
    store.release_claim("demo", "worker-a")
    claim = store.claim_channel("demo", "worker-c", 60)
    assert claim.won and claim.stale_since is None


def test_a_claim_released_with_an_unknown_outcome_is_free_but_stale(store):
    store.claim_channel("demo", "timed-out", 60)
    store.release_claim("demo", "timed-out", outcome_unknown=True)
    claim = store.claim_channel("demo", "worker-b", 60)
    assert claim.won and claim.stale_since is not None


def test_an_expired_claim_can_be_taken_and_says_it_was_stale(backend):
    store = backend.store
    store.claim_channel("demo", "died-mid-join", LEASE)
    claimed_at = backend.clock()
    assert store.stale_claims() == {}
    backend.let_pass(LEASE + 0.1)
    assert store.stale_claims() == {"demo": claimed_at}
    taken = store.claim_channel("demo", "worker-b", LEASE)
    assert taken.won and abs(taken.stale_since - claimed_at) < 0.01
    store.record_task(task(), "worker-b")
    assert store.stale_claims() == {}


def test_ending_a_task_frees_its_channel_and_keeps_how_it_ended(store):
    store.record_task(task())
    ended = store.end_task("T1", status="STOPPED", reason="Idle for too long", at=NOW + 100.5)
    assert (ended.status, ended.end_reason, ended.ended_ts, ended.ended) == (
        "STOPPED",
        "Idle for too long",
        round(NOW + 100.5, 3),
        True,
    )
    assert store.task_for_channel("demo") is None
    assert store.running_tasks() == []
    assert store.get_task("T1") == ended
    assert store.claim_channel("demo", "worker-a", LEASE).won


def test_an_ended_task_stays_as_it_ended(store):
    store.record_task(task())
    first = store.end_task("T1", status="FAILED", reason="Fatal ASR error", at=NOW + 10)
    again = store.end_task("T1", status="STOPPED", reason="stopped", at=NOW + 20)
    assert again == first
    assert store.set_status("T1", "RUNNING") is None  # a late "running" does not bring it back
    assert store.get_task("T1") == first
    assert store.end_task("unknown", status="STOPPED", reason="x", at=NOW + 1) is None


def test_the_end_of_an_old_task_does_not_free_the_channel_of_a_new_one(store):
    store.record_task(task("OLD"))
    store.end_task("OLD", status="STOPPED", reason="stopped", at=NOW + 1)
    new = store.record_task(task("NEW"))
    store.end_task("OLD", status="STOPPED", reason="late duplicate", at=NOW + 2)
    assert store.task_for_channel("demo") == new


def test_a_second_task_for_a_busy_channel_is_not_recorded(store):
    first = store.record_task(task("A"))
    assert store.record_task(task("B")) == first
    assert store.task_for_channel("demo") == first
    assert [t.task_id for t in store.running_tasks()] == ["A"]
    assert [t.task_id for t in store.channel_tasks("demo")] == ["A"]


def test_set_status_updates_a_running_task(store):
    store.record_task(task())
    assert store.set_status("T1", "RUNNING").status == "RUNNING"
    assert store.get_task("T1").status == "RUNNING"


def test_channels_are_independent(store):
    store.record_task(task("A", "one"))
    assert store.claim_channel("two", "worker-a", LEASE).won
    assert store.task_for_channel("two") is None
    assert store.task_for_channel("one").task_id == "A"


def test_racing_claims_from_many_threads_make_one_winner(store):
    results = []
    barrier = threading.Barrier(16)

    def claim(owner):
        barrier.wait()
        results.append(store.claim_channel("race", owner, 30).won)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_first_sighting_is_true_once_then_again_after_it_expires(backend):
    store = backend.store
    assert store.first_sighting("notice-1", LEASE) is True
    assert store.first_sighting("notice-1", LEASE) is False
    assert store.first_sighting("notice-2", LEASE) is True
    backend.let_pass(LEASE + 0.1)
    assert store.first_sighting("notice-1", LEASE) is True


def test_sequence_ids_rise_by_one_under_concurrency(store):
    values = []
    lock = threading.Lock()

    def take():
        for _ in range(20):
            value = store.next_sequence_id("task-1")
            with lock:
                values.append(value)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(values) == list(range(1, 101))
    assert store.next_sequence_id("task-2") == 1


def test_a_lease_is_held_until_it_expires(backend):
    store = backend.store
    assert store.acquire("sweeper", LEASE) == 0.0
    left = store.acquire("sweeper", LEASE)
    assert 0 < left <= LEASE
    backend.let_pass(LEASE + 0.1)
    assert store.acquire("sweeper", LEASE) == 0.0


def test_a_held_lease_counts_from_the_hold(backend):
    store = backend.store
    assert store.acquire("update-gap:t", LEASE) == 0.0
    backend.let_pass(LEASE * 2 / 3)
    store.hold("update-gap:t", LEASE)  # taken already: held on, from now
    backend.let_pass(LEASE / 2)  # past the first lease's end, within the hold's
    assert store.acquire("update-gap:t", LEASE) > 0
    backend.let_pass(LEASE)
    assert store.acquire("update-gap:t", LEASE) == 0.0


def test_two_stores_on_the_same_backend_share_everything(backend, tmp_path, request):
    """Two workers (or machines) each open their own store: they see one state."""
    store = backend.store
    if backend.real_time:
        from state.redis_store import RedisStore

        other = RedisStore(request.getfixturevalue("redis_url"), prefix=store.prefix)
    else:
        from state.sqlite_store import SqliteStore

        other = SqliteStore(store.path, clock=backend.clock)
    try:
        assert store.claim_channel("shared", "machine-a", 30).won
        assert other.claim_channel("shared", "machine-b", 30).held_by_another
        store.record_task(task("S", "shared"), "machine-a")
        assert other.task_for_channel("shared").task_id == "S"
        assert other.next_sequence_id("S") == 1 and store.next_sequence_id("S") == 2
    finally:
        other.close()


def test_a_channel_lists_its_tasks_running_and_ended_oldest_first(store):
    store.record_task(Task(task_id="B", channel="demo", status="RUNNING", create_ts=1_700_000_100))
    store.end_task("B", status="STOPPED", reason="stopped", at=NOW)
    store.record_task(
        Task(task_id="C", channel="demo", status="RUNNING", create_ts=1_700_000_200, records_captions=True)
    )
    store.record_task(Task(task_id="X", channel="other", status="RUNNING", create_ts=1_700_000_000))
    tasks = store.channel_tasks("demo")
    assert [(t.task_id, t.ended, t.records_captions) for t in tasks] == [("B", True, False), ("C", False, True)]
    assert store.channel_tasks("nobody") == []


def test_a_speaker_name_is_kept_for_its_lifetime_and_replaced_by_a_later_one(backend):
    store = backend.store
    store.put_speaker("demo", 1001, "Ana", LEASE)
    store.put_speaker("demo", 4_294_967_295, "Zoë 🎤", 60)
    store.put_speaker("other", 1001, "Someone else", 60)
    assert store.speakers("demo") == {1001: "Ana", 4_294_967_295: "Zoë 🎤"}
    store.put_speaker("demo", 4_294_967_295, "Zoe", 60)
    assert store.speakers("demo") == {1001: "Ana", 4_294_967_295: "Zoe"}
    backend.let_pass(LEASE + 0.1)
    assert store.speakers("demo") == {4_294_967_295: "Zoe"}
    assert store.speakers("other") == {1001: "Someone else"}
    assert store.speakers("empty") == {}


def test_a_tasks_names_are_kept_with_it_until_they_expire(backend):
    store = backend.store
    store.keep_task_speakers("T1", {1001: "Ana", 1002: "Ben"}, 60)
    store.keep_task_speakers("T1", {1002: "Benjamin", 1003: "Cy"}, LEASE)  # the last write sets the expiry
    store.keep_task_speakers("T2", {1001: "Other"}, 60)
    assert store.task_speakers("T1") == {1001: "Ana", 1002: "Benjamin", 1003: "Cy"}
    backend.let_pass(LEASE + 0.1)
    assert store.task_speakers("T1") == {}
    assert store.task_speakers("T2") == {1001: "Other"}


def test_forgetting_a_tasks_names_says_how_many_went(store):
    store.keep_task_speakers("T1", {1001: "Ana", 1002: "Ben"}, 60)
    store.keep_task_speakers("T2", {1001: "Ana"}, 60)
    assert store.forget_task_speakers("T1") == 2
    assert store.task_speakers("T1") == {}
    assert store.forget_task_speakers("T1") == 0
    assert store.task_speakers("T2") == {1001: "Ana"}


def test_the_last_ended_task_of_a_channel_says_why_it_ended(store):
    assert store.last_ended_task("demo") is None
    store.record_task(task("FIRST"))
    assert store.last_ended_task("demo") is None  # running is not ended
    store.end_task("FIRST", status="STOPPED", reason="Idle for too long", at=NOW + 10)
    store.record_task(task("SECOND"))
    store.end_task("SECOND", status="FAILED", reason="Fatal ASR error", at=NOW + 20)
    last = store.last_ended_task("demo")
    assert (last.task_id, last.status, last.end_reason) == ("SECOND", "FAILED", "Fatal ASR error")
    assert store.last_ended_task("other") is None


def test_the_last_ended_task_goes_by_end_time_not_by_arrival(store):
    store.record_task(task("OLD", "demo"))
    store.record_task(task("ADOPTED", "elsewhere"))
    store.end_task("OLD", status="STOPPED", reason="stopped", at=NOW + 50)
    # An older agent's end, applied late (an out-of-order notification), is not the latest.
    late = task("LATE", "demo")
    store.record_task(late)
    store.end_task("LATE", status="STOPPED", reason="late", at=NOW + 5)
    assert store.last_ended_task("demo").task_id == "OLD"
