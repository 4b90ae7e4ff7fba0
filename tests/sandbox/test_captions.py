import itertools
import subprocess
import sys

from sandbox.captions import SCRIPT, SPEAKERS, conversation, encode
from sandbox.SttMessage_pb2 import Text
from tests.servers import ROOT


def test_each_sentence_grows_word_by_word_then_turns_final():
    events = list(itertools.islice(conversation(), 40))
    first_sentence = [event for event in events if event.sentence_id == 1]
    assert [event.is_final for event in first_sentence] == [False] * (len(first_sentence) - 1) + [True]
    texts = [event.text for event in first_sentence]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))
    assert texts[-1] == SCRIPT[0][1]
    assert {event.speaker for event in events} == set(SPEAKERS)
    assert [event.seq for event in events] == list(range(40))
    assert all(later.at > earlier.at for earlier, later in itertools.pairwise(events))
    assert events[0].at < 1  # the first words come quickly


def test_the_conversation_never_runs_out():
    assert sum(1 for _ in itertools.islice(conversation(), 1000)) == 1000


def test_encoded_events_are_agora_text_messages():
    event = next(conversation())
    message = Text.FromString(encode(event, "en-US", 1732500000123))
    assert (message.uid, message.culture, message.data_type, message.time) == (
        1001,
        "en-US",
        "transcribe",
        1732500000123,
    )
    assert [(word.text, word.is_final) for word in message.words] == [(event.text, False)]


def test_generated_python_code_matches_the_schema(tmp_path):
    """sandbox/SttMessage_pb2.py is generated from the one .proto; regenerating changes nothing."""
    proto = ROOT / "api" / "static" / "proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{proto}",
            f"--python_out={tmp_path}",
            str(proto / "SttMessage.proto"),
        ],
        check=True,
    )
    assert (tmp_path / "SttMessage_pb2.py").read_text() == (ROOT / "sandbox" / "SttMessage_pb2.py").read_text()
