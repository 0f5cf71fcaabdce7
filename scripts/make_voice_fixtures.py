#!/usr/bin/python3
"""Builds the voice pipeline's committed test fixtures in tests/fixtures/data/voice/ from data/voice/.

- test/index.csv + test/<label>/*.wav: the first PER_CLASS clips of every class in the test split's
  (shuffled) index order, no picking by hand; tests/data_voice_test.cpp loads them through the
  pipeline's own loader and checks the committed model's accuracy on them.
- stop.wav: the first "stop" clip of that subset, also the example program's default input, and
  stop.logmel.npy: its log-mel features [40, 98] computed HERE, independently of the C++ front end,
  in float64 numpy (np.fft.rfft), with the same definition as include/imprecise/data/log_mel.hpp.
  The C++ test compares the two (tolerance documented there).
Run from the repo root after scripts/make_voice_data.py:
    /usr/bin/python3 scripts/make_voice_fixtures.py
"""
import csv
import os
import shutil
import wave

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "data", "voice", "test")
DST = os.path.join(ROOT, "tests", "fixtures", "data", "voice")
PER_CLASS = 1

# The front end's definition (LogMelConfig defaults).
RATE, CLIP, WINDOW, HOP, NFFT, BANDS, FMIN, FMAX, EPS, MEAN, STD = 16000, 16000, 400, 160, 512, 40, 20.0, 8000.0, 1e-6, -6.1, 4.4


def read_pcm16(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == RATE
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def log_mel(x):
    x = np.pad(x, ((CLIP - len(x)) // 2, CLIP - len(x) - (CLIP - len(x)) // 2)) if len(x) < CLIP else \
        x[(len(x) - CLIP) // 2:(len(x) - CLIP) // 2 + CLIP]
    frames = 1 + (CLIP - WINDOW) // HOP
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)
    idx = np.arange(frames)[:, None] * HOP + np.arange(WINDOW)[None, :]
    power = np.abs(np.fft.rfft(x[idx] * hann, n=NFFT, axis=1)) ** 2  # [frames, bins]
    mel = lambda hz: 2595.0 * np.log10(1.0 + hz / 700.0)
    edges = 700.0 * (10 ** (np.linspace(mel(FMIN), mel(FMAX), BANDS + 2) / 2595.0) - 1.0)
    hz = np.arange(NFFT // 2 + 1) * RATE / NFFT
    lo, centre, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(0.0, np.minimum((hz - lo) / (centre - lo), (hi - hz) / (hi - centre)))  # [bands, bins]
    return ((np.log(bank @ power.T + EPS) - MEAN) / STD).astype(np.float32)  # [bands, frames]


def main():
    with open(os.path.join(SRC, "index.csv")) as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    shutil.rmtree(os.path.join(DST, "test"), ignore_errors=True)
    chosen, count = [], {}
    for row in rows:
        if count.get(row["label"], 0) < PER_CLASS:
            count[row["label"]] = count.get(row["label"], 0) + 1
            chosen.append(row)
    for row in chosen:
        os.makedirs(os.path.join(DST, "test", row["label"]), exist_ok=True)
        shutil.copyfile(os.path.join(SRC, row["path"]), os.path.join(DST, "test", row["path"]))
    with open(os.path.join(DST, "test", "index.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(chosen)
    stop = next(r for r in chosen if r["label"] == "stop")
    shutil.copyfile(os.path.join(SRC, stop["path"]), os.path.join(DST, "stop.wav"))
    np.save(os.path.join(DST, "stop.logmel.npy"), log_mel(read_pcm16(os.path.join(DST, "stop.wav"))))
    print(f"{len(chosen)} clips -> {DST}/test; stop.wav = {stop['path']} ({stop['voice']})")


if __name__ == "__main__":
    main()
