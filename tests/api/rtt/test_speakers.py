"""Speaker names: given with a token, answered by speakers.json, kept with the channel's task."""

import pytest

from state import Task


def token(client, **fields):
    return client.post("/api/tokens.json", json={"channel": "demo", "uid": 1001, **fields})


def test_a_name_given_with_a_token_is_the_channels(client):
    assert token(client, name="  Ana María  ").get_json()["name"] == "Ana María"
    assert token(client, uid="1002", name="Ben 🎤").status_code == 200
    token(client, channel="other", uid=1003, name="Cy")
    assert "name" not in token(client, uid=1004).get_json()  # no name: nothing remembered
    assert client.get("/api/rtt/speakers.json?channel=demo").get_json() == {"1001": "Ana María", "1002": "Ben 🎤"}
    assert client.get("/api/rtt/speakers.json?channel=nobody").get_json() == {}


def test_a_later_name_replaces_the_earlier_one(client):
    token(client, name="Ana")
    token(client, name="Anita")
    assert client.get("/api/rtt/speakers.json?channel=demo").get_json() == {"1001": "Anita"}


def test_names_go_with_the_running_task_and_outlive_the_token(app, client):
    store = app.extensions["state"]
    token(client, name="Before", expireTime=60)
    store.record_task(Task("T1", "demo", "RUNNING", 1_700_000_000, records_captions=True))
    from api.rtt.speakers import keep_channel_names

    with app.app_context():
        keep_channel_names(store.get_task("T1"))  # what start does once the task is recorded
    token(client, uid=1002, name="During", expireTime=1)
    assert store.task_speakers("T1") == {1001: "Before", 1002: "During"}


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "a" * 65},
        {"name": "Ana\nBen"},
        {"name": "Ana\tBen"},
        {"name": "Ana\u0000"},
        {"name": "Ana\u2028"},
        {"name": 42},
        {"name": None},
        {"name": ["Ana"]},
    ],
)
def test_a_bad_name_is_refused_naming_the_rule(client, fields):
    answer = token(client, **fields)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == {
        "code": "invalid_field",
        "message": "name must be 1-64 characters after trimming spaces, without control characters",
        "field": "name",
    }


def test_a_name_needs_a_real_uid(client):
    answer = token(client, uid=0, name="Anyone")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "name"
    assert token(client, name=" " + "a" * 64 + " ").get_json()["name"] == "a" * 64
