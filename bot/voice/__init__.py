"""Offline voice messages for older listeners: script → Mandarin speech → AMR clips ≤ 55 s → media ids.

The push jobs need only two calls: ``voice_parts(script, rate=...)`` and
``media_id_for(clip, upload, target=..., now=...)``. Modules: ``engine`` (the speech interface and
espeak-ng), ``split`` (cutting scripts), ``amr`` (encoding and WeCom's limits), ``clips`` (the
pipeline and its disk cache), ``media`` (reusing uploaded media ids).
"""
from bot.voice.amr import check_voice
from bot.voice.clips import AmrClip, voice_parts
from bot.voice.engine import DEFAULT_WPM, MANDARIN, EspeakEngine, Speech, SpeechEngine, VoiceError
from bot.voice.media import media_id_for

__all__ = ["AmrClip", "DEFAULT_WPM", "EspeakEngine", "MANDARIN", "Speech", "SpeechEngine", "VoiceError",
           "check_voice", "media_id_for", "voice_parts"]
