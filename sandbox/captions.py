"""A scripted conversation, encoded as the protobuf caption messages a publisher bot sends.

Two speakers take turns; each sentence arrives as interim messages that grow word by word,
then once more as final, as Agora's transcription does. The script exists in several
languages, so each speaker talks in the language the task gives them, and its translation
messages (data_type "translate") carry the same sentence in each target language.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox.SttMessage_pb2 import Text, Translation, Word

SPEAKERS = (1001, 1002)
# fmt: off
SCRIPTS: dict[str, tuple[str, ...]] = {
    "en": ("Hi everyone, thanks for joining the call.",
           "Happy to be here. Can you all see the captions?",
           "Yes, each word shows up while you are still speaking.",
           "And the line settles once the sentence is final.",
           "This is the sandbox talking; with a real Agora project the words are yours.",
           "Press stop captions whenever you have seen enough."),
    "es": ("Hola a todos, gracias por unirse a la llamada.",
           "Encantada de estar aquí. ¿Todos ven los subtítulos?",
           "Sí, cada palabra aparece mientras todavía estás hablando.",
           "Y la línea se asienta cuando la frase es definitiva.",
           "Habla el sandbox; con un proyecto real de Agora las palabras son tuyas.",
           "Pulsa detener subtítulos cuando hayas visto suficiente."),
    "fr": ("Bonjour à tous, merci d'avoir rejoint l'appel.",
           "Ravie d'être là. Vous voyez tous les sous-titres ?",
           "Oui, chaque mot s'affiche pendant que vous parlez encore.",
           "Et la ligne se fige une fois la phrase terminée.",
           "C'est le sandbox qui parle ; avec un vrai projet Agora, les mots sont les vôtres.",
           "Appuyez sur arrêter les sous-titres quand vous en avez assez vu."),
    "de": ("Hallo zusammen, danke, dass ihr dabei seid.",
           "Schön, hier zu sein. Seht ihr alle die Untertitel?",
           "Ja, jedes Wort erscheint, während du noch sprichst.",
           "Und die Zeile steht fest, sobald der Satz fertig ist.",
           "Hier spricht die Sandbox; mit einem echten Agora-Projekt sind es deine Worte.",
           "Drück auf Untertitel beenden, wenn du genug gesehen hast."),
    "it": ("Ciao a tutti, grazie per esservi uniti alla chiamata.",
           "Felice di essere qui. Vedete tutti i sottotitoli?",
           "Sì, ogni parola appare mentre stai ancora parlando.",
           "E la riga si ferma quando la frase è definitiva.",
           "Qui parla la sandbox; con un vero progetto Agora le parole sono vostre.",
           "Premi ferma sottotitoli quando hai visto abbastanza."),
    "pt": ("Olá a todos, obrigado por entrarem na chamada.",
           "Que bom estar aqui. Todos estão vendo as legendas?",
           "Sim, cada palavra aparece enquanto você ainda está falando.",
           "E a linha se firma quando a frase fica final.",
           "Aqui fala a sandbox; com um projeto real da Agora as palavras são suas.",
           "Clique em parar legendas quando já tiver visto o bastante."),
    "hi": ("सभी को नमस्ते, कॉल में शामिल होने के लिए धन्यवाद।",
           "यहाँ आकर खुशी हुई। क्या सबको कैप्शन दिख रहे हैं?",
           "हाँ, बोलते समय ही हर शब्द दिखाई देता है।",
           "और वाक्य पूरा होने पर पंक्ति स्थिर हो जाती है।",
           "यह सैंडबॉक्स बोल रहा है; असली Agora प्रोजेक्ट में शब्द आपके होंगे।",
           "जब काफ़ी देख लें, तो कैप्शन रोकें दबाएँ।"),
    "ja": ("皆さん、こんにちは。通話に参加してくれてありがとう。",
           "参加できてうれしいです。字幕は見えていますか？",
           "はい、話している間に一語ずつ表示されます。",
           "そして文が確定すると行が落ち着きます。",
           "これはサンドボックスの声です。本物のAgoraプロジェクトなら言葉はあなたのものです。",
           "もう十分なら字幕を停止を押してください。"),
    "ko": ("여러분 안녕하세요, 통화에 참여해 주셔서 감사합니다.",
           "함께하게 되어 기쁩니다. 모두 자막이 보이나요?",
           "네, 말하는 동안 단어가 하나씩 나타납니다.",
           "그리고 문장이 확정되면 줄이 고정됩니다.",
           "지금은 샌드박스가 말하고 있습니다. 실제 Agora 프로젝트에서는 여러분의 말이 나옵니다.",
           "충분히 보셨다면 자막 중지를 누르세요."),
    "zh": ("大家好，感谢加入通话。",
           "很高兴来到这里。大家都能看到字幕吗？",
           "是的，你还在说话时每个词就会出现。",
           "句子确定后，这一行就固定下来。",
           "这是沙盒在说话；使用真正的 Agora 项目时，文字就是你的。",
           "看够了就按停止字幕。"),
    "ar": ("مرحبًا بالجميع، شكرًا لانضمامكم إلى المكالمة.",
           "سعيد بوجودي هنا. هل ترون جميعًا الترجمة النصية؟",
           "نعم، تظهر كل كلمة بينما ما زلت تتحدث.",
           "ويستقر السطر عندما تكتمل الجملة.",
           "هذا هو صندوق الاختبار يتحدث؛ مع مشروع Agora حقيقي تكون الكلمات كلماتك.",
           "اضغط على إيقاف الترجمة عندما تكتفي."),
}
# fmt: on
SCRIPT = tuple(zip(itertools.cycle(SPEAKERS), SCRIPTS["en"], strict=False))
UNSPACED = frozenset({"ja", "zh"})  # written without spaces: interim text grows a few characters at a time
CHARACTERS_PER_WORD = 3
WORDS_PER_INTERIM = 2
INTERIM_GAP = 0.25  # seconds between interim messages
SENTENCE_GAP = 0.8  # seconds of silence after a final message
FIRST_DELAY = 0.3


@dataclass(frozen=True)
class CaptionEvent:
    seq: int  # position in the endless conversation, for SSE ids and resuming
    at: float  # seconds after the conversation began
    speaker: int
    line: int  # index into each language's script
    spoken: float  # how much of the sentence has been said, 0 < spoken <= 1
    is_final: bool
    sentence_id: int

    @property
    def text(self) -> str:
        return self.text_in("en-US")

    def text_in(self, language: str) -> str:
        """What has been said so far, in `language` (English where the sandbox has no script for it)."""
        words = _words(language, self.line)
        said = words if self.is_final else words[: max(1, math.ceil(self.spoken * len(words)))]
        return ("" if _base(language) in UNSPACED else " ").join(said)


def conversation() -> Iterator[CaptionEvent]:
    """The script, repeated without end, as timed interim and final events (timed by the English words)."""
    at, seq = FIRST_DELAY, 0
    for sentence_id, (speaker, sentence) in enumerate(itertools.cycle(SCRIPT), start=1):
        line = (sentence_id - 1) % len(SCRIPT)
        count = len(sentence.split(" "))
        for end in range(WORDS_PER_INTERIM, count, WORDS_PER_INTERIM):
            yield CaptionEvent(seq, at, speaker, line, end / count, False, sentence_id)
            seq, at = seq + 1, at + INTERIM_GAP
        yield CaptionEvent(seq, at, speaker, line, 1.0, True, sentence_id)
        seq, at = seq + 1, at + SENTENCE_GAP


def speaker_language(speaker: int, languages: list[str], uid_languages: list[dict] | None) -> str:
    """The language a scripted speaker talks in: theirs in uidLanguagesConfig, else one of the task's in turn."""
    for item in uid_languages or []:
        if str(item.get("uid")) == str(speaker) and item.get("languages"):
            return item["languages"][0]
    index = SPEAKERS.index(speaker) if speaker in SPEAKERS else 0
    return languages[index % len(languages)]


def translation_targets(source: str, translate_config: dict | None) -> list[str]:
    for pair in (translate_config or {}).get("languages") or []:
        if pair.get("source") == source:
            return list(pair.get("target") or [])
    return []


def encode(event: CaptionEvent, culture: str, now_ms: int) -> bytes:
    """The event as an Agora.SpeechToText.Text transcription message, in `culture`."""
    message = Text(
        uid=event.speaker,
        time=now_ms,
        words=[Word(text=event.text_in(culture), is_final=event.is_final)],
        duration_ms=int(INTERIM_GAP * 1000),
        data_type="transcribe",
        culture=culture,
        text_ts=now_ms,
        sentence_id=event.sentence_id,
    )
    return message.SerializeToString()


def encode_translation(event: CaptionEvent, source: str, targets: list[str], now_ms: int) -> bytes:
    """The event's translation into each target, as one data_type "translate" message (interim or final)."""
    message = Text(
        uid=event.speaker,
        time=now_ms,
        data_type="translate",
        culture=source,
        text_ts=now_ms,
        sentence_id=event.sentence_id,
        trans=[Translation(is_final=event.is_final, lang=lang, texts=[event.text_in(lang)]) for lang in targets],
    )
    return message.SerializeToString()


def _base(language: str) -> str:
    return language.split("-", 1)[0]


def _words(language: str, line: int) -> list[str]:
    base = _base(language)
    sentence = SCRIPTS.get(base, SCRIPTS["en"])[line]
    if base in UNSPACED:
        return [sentence[n : n + CHARACTERS_PER_WORD] for n in range(0, len(sentence), CHARACTERS_PER_WORD)]
    return sentence.split(" ")
