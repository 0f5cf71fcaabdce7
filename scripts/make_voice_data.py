#!/usr/bin/python3
"""Generates the voice pipeline's SYNTHETIC keyword-spotting data set with espeak-ng (deterministic from --seed).

35 classes, the 35 words of Speech Commands v2 (no "unknown", no "silence"); they include confusable
pairs (tree/three, bed/bird, dog/down, no/go, on/off, four/forward, ...). Every clip is 1 s of 16 kHz
mono 16-bit PCM: one word synthesized by espeak-ng with a random voice, speed and pitch, resampled
22.05 -> 16 kHz, placed at a random offset (time shift), passed through a synthetic room (70 % of
clips: an impulse response of exponentially decaying noise with a random RT60, heard from a random
distance, so far talkers are quieter and more reverberant), scaled to a level that falls with the
distance, and mixed with background noise (white, pink, brown, mains hum or band-limited noise) at
a random SNR, down to -5 dB. Difficulty is deliberately mixed: most clips are clear, a minority are
at or below 0 dB SNR or far away in a live room.

A voice is (accent, timbre): an espeak-ng language voice that reads Latin text with its own
phonology (8 English accents + 41 other languages, those whose reading of every word needs no
language switch AND keeps all 35 words distinct: es, pl, pt-br... read "three" exactly as "tree" and
are left out) combined with an espeak-ng variant (+f2, +klatt, +Alex, ...). Accents AND variants
are split three ways (train / calibration / test), so the test split is spoken by accents and
timbres the model never heard. Half of the clips use an English accent.

Writes data/voice/<split>/<label>/<split>_<index>.wav and data/voice/<split>/index.csv (rows in
a shuffled order, so the first N rows are a fair sample), plus data/voice/voices.json.
Every clip draws its parameters from numpy's Generator seeded by (seed, split, index), so the
output is identical for a given seed whatever the number of worker processes. Run from the repo root:
    /usr/bin/python3 scripts/make_voice_data.py [--seed 2026] [--out data/voice] [--jobs 2] [--splits test]
Default sizes: 200 / 40 / 40 clips per class (7,000 / 1,400 / 1,400).
--splits (comma-separated subset of train,calibration,test; default all) builds, deletes and rewrites
only the listed splits and leaves the others' directories alone; since every clip is seeded by
(seed, split, index), a split comes out byte-identical whether it is built alone or with the others.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from multiprocessing import Pool

import numpy as np

RATE = 16000
CLIP = RATE  # 1 s
KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
AUXILIARY_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow", "zero", "one",
                 "two", "three", "four", "five", "six", "seven", "eight", "nine", "backward", "forward", "follow",
                 "learn", "visual"]
LABELS = KEYWORDS + AUXILIARY_WORDS  # Speech Commands v2's 35 words, each its own class
ENGLISH_ACCENTS = ["en-029", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-us",
                   "en-us-nyc"]
# Language voices of espeak-ng 1.51 that read every word above natively (no "(en)" switch, no spelling)
# and give the 35 words 35 distinct phoneme strings (`espeak-ng -x`); an, ca, es, es-419, eu, ia, pl
# and pt-br are left out because they read "three" exactly as "tree", which no model could separate.
OTHER_ACCENTS = ["az", "bs", "cs", "cy", "da", "eo", "et", "fi", "gd", "gn", "hr", "ht", "hu", "id", "io", "is", "jbo",
                 "kl", "ku", "la", "lb", "lfn", "lt", "ltg", "lv", "mt", "nb", "nci", "om", "pap", "py", "qu", "ro", "sk",
                 "sl", "smj", "sq", "sr", "sw", "tn", "tr"]
SPLITS = {"train": 200, "calibration": 40, "test": 40}  # clips per class
SPLIT_ID = {"train": 0, "calibration": 1, "test": 2}
NOISES = ["white", "pink", "brown", "hum", "band"]


def espeak_variants():
    """Variant names (the part after '+'), sorted; names with spaces cannot be passed after '+'."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], check=True, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[4].startswith("!v/"):
            names.append(fields[4][3:])
    return sorted(set(names))


def split_three(items, rng, fractions=(0.6, 0.2, 0.2)):
    items = list(items)
    rng.shuffle(items)
    n = len(items)
    a = max(1, round(n * fractions[0]))
    b = max(1, round(n * fractions[1]))
    return {"train": sorted(items[:a]), "calibration": sorted(items[a:a + b]), "test": sorted(items[a + b:])}


def voice_split(seed):
    rng = np.random.default_rng(seed)
    english = split_three(ENGLISH_ACCENTS, rng, (0.5, 0.25, 0.25))
    other = split_three(OTHER_ACCENTS, rng)
    variants = split_three(espeak_variants(), rng)
    return {s: {"english": english[s], "other": other[s], "variants": variants[s]} for s in SPLITS}


def resample(x, rate_in, rate_out):
    """Band-limited resampling by truncating (or zero-padding) the spectrum: exact for one short clip."""
    n_out = int(round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)
    keep = n_out // 2 + 1
    if keep <= len(spectrum):
        spectrum = spectrum[:keep]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(keep - len(spectrum), complex)])
    return np.fft.irfft(spectrum, n_out) * (n_out / len(x))


def synthesize(word, voice, speed, pitch, tmpdir):
    path = os.path.join(tmpdir, "w.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, word], check=True,
                   capture_output=True)
    with wave.open(path, "rb") as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    x = resample(x, rate, RATE)
    # Trim espeak's leading/trailing silence so the time shift decides where the word sits.
    active = np.flatnonzero(np.abs(x) > 0.02 * max(np.abs(x).max(), 1e-9))
    if active.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for '{word}' with voice {voice}")
    return x[max(0, active[0] - 80):active[-1] + 80]


def noise(kind, n, rng):
    if kind == "white":
        y = rng.standard_normal(n)
    elif kind in ("pink", "brown", "band"):
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / RATE)
        f[0] = f[1]
        if kind == "pink":
            spectrum /= np.sqrt(f)
        elif kind == "brown":
            spectrum /= f
        else:  # a random band, e.g. fan or traffic rumble
            lo = rng.uniform(50, 2000)
            hi = lo * rng.uniform(1.5, 6.0)
            spectrum *= (f >= lo) & (f <= hi)
        y = np.fft.irfft(spectrum, n)
    else:  # mains hum: 50 or 60 Hz with decaying harmonics, over a little white noise
        t = np.arange(n) / RATE
        base = rng.choice([50.0, 60.0])
        y = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 2 * np.pi))
                for k in range(1, 8))
        y = y + 0.05 * rng.standard_normal(n)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


def rms(x):
    return float(np.sqrt(np.mean(x ** 2)) + 1e-12)


def room_response(rt60, drr_db, rng):
    """A synthetic room impulse response: the direct path (a unit impulse) plus a tail of Gaussian noise
    decaying by 60 dB over rt60 seconds, starting 2.5 ms later, scaled so that the direct-to-reverberant
    energy ratio is drr_db."""
    n = int(RATE * 1.2 * rt60)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60)  # ln(1000) = 6.908: -60 dB at t = rt60
    tail[:int(0.0025 * RATE)] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail ** 2))
    tail[0] = 1.0
    return tail


def reverberate(x, h):
    """x convolved with h, cut to len(x) (what a 1 s recording window keeps)."""
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:len(x)]


ROOM_PROBABILITY = 0.7        # the other clips are close-talk: dry, at 0.3 m
CRITICAL_DISTANCE_M = 1.5     # where direct and reverberant energy are equal
LOW_SNR_PROBABILITY = 0.15    # clips at -5..0 dB SNR; the others at 0..35 dB


def make_clip(task):
    """One clip; everything random comes from this clip's own Generator, so workers do not interfere."""
    seed, split, index, label, voices = task
    rng = np.random.default_rng([seed, SPLIT_ID[split], index])
    kind = NOISES[rng.integers(len(NOISES))]
    word = label
    accents = voices["english"] if rng.random() < 0.5 else voices["other"]
    voice = f"{accents[rng.integers(len(accents))]}+{voices['variants'][rng.integers(len(voices['variants']))]}"
    speed = int(rng.integers(120, 221))  # words per minute (espeak default 175)
    pitch = int(rng.integers(20, 81))    # 0-99 (default 50)
    with tempfile.TemporaryDirectory() as tmpdir:
        x = synthesize(word, voice, speed, pitch, tmpdir)
        while len(x) > int(0.95 * CLIP):  # too slow for 1 s: speak faster (deterministic)
            speed += 40
            x = synthesize(word, voice, speed, pitch, tmpdir)
    shift = int(rng.integers(0, CLIP - len(x) + 1))
    speech = np.zeros(CLIP)
    speech[shift:shift + len(x)] = x / np.abs(x).max()
    if rng.random() < ROOM_PROBABILITY:
        rt60 = rng.uniform(0.2, 1.0)
        distance = float(np.exp(rng.uniform(np.log(0.5), np.log(4.0))))
        speech = reverberate(speech, room_response(rt60, 20 * np.log10(CRITICAL_DISTANCE_M / distance), rng))
    else:
        rt60, distance = 0.0, 0.3
    # Peak level: -12..-3 dBFS close to the microphone, 6 dB lower per doubling of distance beyond 0.5 m.
    level_db = rng.uniform(-12, -3) - 20 * np.log10(max(distance, 0.5) / 0.5)
    speech *= 10 ** (level_db / 20) / np.abs(speech).max()
    # SNR against the speech's own RMS over the word (and its reverberant tail), not the whole second's.
    snr_db = rng.uniform(-5, 0) if rng.random() < LOW_SNR_PROBABILITY else rng.uniform(0, 35)
    span = speech[shift:min(CLIP, shift + len(x) + int(RATE * rt60 / 2))]
    y = speech + noise(kind, CLIP, rng) * rms(span) * 10 ** (-snr_db / 20)
    peak = np.abs(y).max()
    if peak > 0.99:
        y *= 0.99 / peak
    pcm = np.round(y * 32767).astype("<i2")
    row = {"label": label, "word": word, "voice": voice, "speed": speed, "pitch": pitch, "noise": kind,
           "snr_db": f"{snr_db:.1f}", "rt60_s": f"{rt60:.2f}", "distance_m": f"{distance:.2f}",
           "level_dbfs": f"{level_db:.1f}", "shift_ms": f"{1000 * shift / RATE:.0f}", "pcm": pcm.tobytes()}
    return split, index, row


def write_wav(path, pcm_bytes):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm_bytes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "voice"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the clips per class (quick tests)")
    parser.add_argument("--splits", default=",".join(SPLITS),
                        help="comma-separated subset of " + ",".join(SPLITS) + " to (re)build (default: all)")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.splits.split(",") if s.strip()]
    for s in wanted:
        if s not in SPLITS:
            parser.error(f"--splits: unknown split '{s}' (choose from {', '.join(SPLITS)})")
    if not wanted:
        parser.error("--splits: no split given")
    splits = [s for s in SPLITS if s in wanted]  # canonical order, no duplicates

    voices = voice_split(args.seed)  # all three splits: the voice assignment does not depend on --splits
    tasks = []
    for split in splits:
        per_class = SPLITS[split]
        n = max(1, int(round(per_class * args.scale)))
        labels = [label for label in LABELS for _ in range(n)]
        order = np.random.default_rng([args.seed, SPLIT_ID[split], 999]).permutation(len(labels))
        for index, k in enumerate(order):  # shuffled: any prefix of the index is class-balanced on average
            tasks.append((args.seed, split, index, labels[k], voices[split]))

    os.makedirs(args.out, exist_ok=True)
    for split in splits:  # no stale clips from an earlier run with other sizes
        shutil.rmtree(os.path.join(args.out, split), ignore_errors=True)
    with open(os.path.join(args.out, "voices.json"), "w") as f:
        json.dump({"seed": args.seed, "splits": voices}, f, indent=1)
    rows = {s: [] for s in splits}
    with Pool(args.jobs) as pool:
        for done, (split, index, row) in enumerate(pool.imap(make_clip, tasks, chunksize=8), 1):
            rel = f"{row['label']}/{split}_{index:05d}.wav"
            os.makedirs(os.path.join(args.out, split, row["label"]), exist_ok=True)
            write_wav(os.path.join(args.out, split, rel), row.pop("pcm"))
            rows[split].append(dict(path=rel, **row))
            if done % 200 == 0 or done == len(tasks):  # progress: a line per 200 clips, to stderr
                print(f"{done}/{len(tasks)} clips", file=sys.stderr, flush=True)
    fields = ["path", "label", "word", "voice", "speed", "pitch", "noise", "snr_db", "rt60_s", "distance_m",
              "level_dbfs", "shift_ms"]
    for split, split_rows in rows.items():  # index.csv last and atomically: it marks a complete split
        index = os.path.join(args.out, split, "index.csv")
        with open(index + ".tmp", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(split_rows)
        os.replace(index + ".tmp", index)
        print(f"{split}: {len(split_rows)} clips, accents {voices[split]['english'] + voices[split]['other']}")


if __name__ == "__main__":
    main()
