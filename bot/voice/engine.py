"""Text-to-speech engines: a small interface, and espeak-ng (bundled by espeakng-loader) behind it.

The interface is deliberately tiny — text in, PCM out — so a better engine, or a recorded file, can
replace espeak without touching splitting, encoding or caching.
"""
from __future__ import annotations

import array
import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Protocol

import espeakng_loader

DEFAULT_WPM = 150            # slower than espeak's 175 for older listeners and retirees
MANDARIN = "cmn"             # espeak-ng-data/lang/sit/cmn; "zh" is a language tag, not a voice name


class VoiceError(RuntimeError):
    """Speech could not be produced, or the audio breaks WeCom's voice limits.

    Audio refused by ``bot.voice.amr`` says why in ``reason`` (one of its refusal reasons) and, where it
    has one, the number behind it in ``amount`` (bytes over the size limit, seconds over the length limit).
    """

    def __init__(self, message: str, *, reason: str = "", amount: float = 0.0):
        super().__init__(message)
        self.reason, self.amount = reason, amount


@dataclass(frozen=True)
class Speech:
    """Mono PCM: signed 16-bit little-endian samples."""

    samples: bytes
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / 2 / self.sample_rate

    def peak(self) -> int:
        """Largest absolute sample; 0 means silence."""
        values = array.array("h", self.samples)
        return max((abs(v) for v in values), default=0)


class SpeechEngine(Protocol):
    """Anything that turns text into speech. ``name`` goes into cache keys, so change it when output changes."""

    name: str

    def synthesise(self, text: str, *, voice: str, rate: int) -> Speech:
        """Speak ``text`` with ``voice`` at ``rate`` words per minute."""
        ...


# -- espeak-ng through ctypes --------------------------------------------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2      # samples come to the callback, espeak_Synth returns when done
_INITIALIZE_DONT_EXIT = 0x8000     # report errors instead of calling exit()
_ESPEAK_RATE = 1                   # espeak_PARAMETER espeakRATE
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """The process-wide libespeak-ng: it keeps global state, so it is initialised once and used under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._lib: ctypes.CDLL | None = None
        self._sample_rate = 0
        self._collected: array.array | None = None
        self._callback = _SynthCallback(self._collect)   # kept referenced: the C side holds a pointer
        self.version = ""

    def after_fork(self) -> None:
        # an RQ work horse is forked; a lock held by another parent thread would never be released
        self.lock = threading.Lock()

    def ensure_initialised(self) -> None:
        if self._lib is not None:
            return
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(),
                                     _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise VoiceError(f"espeak-ng failed to initialise (returned {rate})")
        lib.espeak_SetSynthCallback(self._callback)
        self.version = lib.espeak_Info(None).decode()
        self._lib, self._sample_rate = lib, rate

    def synthesise(self, text: str, *, voice: str, rate: int) -> Speech:
        """Caller holds ``self.lock``."""
        self.ensure_initialised()
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise VoiceError(f"espeak-ng has no voice named {voice!r}")
        if lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0) != 0:
            raise VoiceError(f"espeak-ng refused rate {rate}")
        encoded = text.encode("utf-8")
        self._collected = array.array("h")
        try:
            status = lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise VoiceError(f"espeak_Synth failed with status {status}")
            samples = self._collected.tobytes()
        finally:
            self._collected = None
        return Speech(samples, self._sample_rate)

    def _collect(self, wav, count, _events) -> int:
        if count > 0 and self._collected is not None:
            self._collected.frombytes(ctypes.string_at(wav, count * 2))
        return 0        # 0 = keep going


_ESPEAK = _Espeak()
os.register_at_fork(after_in_child=_ESPEAK.after_fork)


class EspeakEngine:
    """espeak-ng 1.52 from espeakng-loader (Debian's 1.51 gets Mandarin wrong). Rates: 80–450 wpm."""

    MIN_RATE, MAX_RATE = 80, 450

    @property
    def name(self) -> str:
        with _ESPEAK.lock:
            _ESPEAK.ensure_initialised()
            return f"espeak-ng-{_ESPEAK.version}"

    def synthesise(self, text: str, *, voice: str = MANDARIN, rate: int = DEFAULT_WPM) -> Speech:
        if not self.MIN_RATE <= rate <= self.MAX_RATE:
            raise VoiceError(f"rate {rate} wpm is outside espeak's {self.MIN_RATE}–{self.MAX_RATE}")
        with _ESPEAK.lock:
            speech = _ESPEAK.synthesise(text, voice=voice, rate=rate)
        if not speech.samples:
            raise VoiceError(f"espeak-ng produced no audio for {text[:20]!r}")
        return speech
