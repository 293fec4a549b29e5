"""Comparing the audio a page sent with the recording its fake microphone played."""

from __future__ import annotations

import numpy as np


def match(sent: bytes, played: bytes) -> tuple[float, float]:
    """How closely ``sent`` reproduces ``played`` (both 16 kHz s16le mono), once aligned.

    Returns the normalized cross-correlation (1.0: the same waveform) and the level ratio (RMS of
    ``sent`` over RMS of ``played``).
    """
    a = np.frombuffer(played, np.int16).astype(np.float64)
    b = np.frombuffer(sent, np.int16).astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    correlation = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lag = int(np.argmax(correlation))
    if lag > size // 2:
        lag -= size  # ``sent`` starts before ``played``'s first sample
    b, a = (b[lag:], a) if lag >= 0 else (b, a[-lag:])
    length = min(len(a), len(b))
    a, b = a[:length], b[:length]
    ncc = float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return ncc, float(np.sqrt(np.mean(b**2)) / np.sqrt(np.mean(a**2)))
