"""A scripted conversation, encoded as the protobuf caption messages a publisher bot sends.

Two speakers take turns; each sentence arrives as interim messages that grow word by word,
then once more as final, as Agora's transcription does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox.SttMessage_pb2 import Text, Word

SPEAKERS = (1001, 1002)
SCRIPT = (
    (1001, "Hi everyone, thanks for joining the call."),
    (1002, "Happy to be here. Can you all see the captions?"),
    (1001, "Yes, each word shows up while you are still speaking."),
    (1002, "And the line settles once the sentence is final."),
    (1001, "This is the sandbox talking; with a real Agora project the words are yours."),
    (1002, "Press stop captions whenever you have seen enough."),
)
WORDS_PER_INTERIM = 2
INTERIM_GAP = 0.25  # seconds between interim messages
SENTENCE_GAP = 0.8  # seconds of silence after a final message
FIRST_DELAY = 0.3


@dataclass(frozen=True)
class CaptionEvent:
    seq: int  # position in the endless conversation, for SSE ids and resuming
    at: float  # seconds after the conversation began
    speaker: int
    text: str
    is_final: bool
    sentence_id: int


def conversation() -> Iterator[CaptionEvent]:
    """The script, repeated without end, as timed interim and final events."""
    at, seq = FIRST_DELAY, 0
    for sentence_id, (speaker, sentence) in enumerate(itertools.cycle(SCRIPT), start=1):
        words = sentence.split(" ")
        for end in range(WORDS_PER_INTERIM, len(words), WORDS_PER_INTERIM):
            yield CaptionEvent(seq, at, speaker, " ".join(words[:end]), False, sentence_id)
            seq, at = seq + 1, at + INTERIM_GAP
        yield CaptionEvent(seq, at, speaker, sentence, True, sentence_id)
        seq, at = seq + 1, at + SENTENCE_GAP


def encode(event: CaptionEvent, culture: str, now_ms: int) -> bytes:
    """The event as an Agora.SpeechToText.Text message."""
    message = Text(
        uid=event.speaker,
        time=now_ms,
        words=[Word(text=event.text, is_final=event.is_final)],
        duration_ms=int(INTERIM_GAP * 1000),
        data_type="transcribe",
        culture=culture,
        text_ts=now_ms,
        sentence_id=event.sentence_id,
    )
    return message.SerializeToString()
