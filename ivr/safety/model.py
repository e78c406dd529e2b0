"""The learned danger model at run time: one small file, loaded once per worker.

The file (`catalogue/emergency/model.bin`) is written by `ivr-line safety train`:

    IVRDANGER\n
    one line of JSON: feature version, corpus digest, thresholds, bias, languages...
    zlib-compressed little-endian float32: the danger weights (one per hash bucket),
    then the language weights (one per bucket and language)

Scoring is a sum of weights looked up by hash: pure Python and the standard library's
`array`, so the webhook imports no numpy, scikit-learn or torch. What a word adds is
cached per word (a bounded cache: words repeat, and memory must not grow).
"""
from __future__ import annotations

import json
import math
import sys
import zlib
from array import array
from functools import lru_cache
from pathlib import Path

from . import features

MAGIC = b"IVRDANGER\n"
WORD_CACHE = 8192


class Model:
    def __init__(self, header: dict, weights: array, lang_weights: array):
        self.header = header
        self.weights = weights              # danger weight per bucket (float32)
        self.lang_weights = lang_weights    # log-probability per (bucket, language), bucket-major
        self._mask = header["buckets"] - 1
        self._bias = header["bias"]
        self._thresholds = header["thresholds"]
        self._lowest = min(self._thresholds.values())
        self._chars = lru_cache(maxsize=WORD_CACHE)(self._char_sum)
        self._word_lang = lru_cache(maxsize=WORD_CACHE)(self._word_language)

    def clear_caches(self) -> None:
        """Forget what words cost (to measure a worker that has seen none yet)."""
        self._chars.cache_clear()
        self._word_lang.cache_clear()

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self._thresholds)

    @property
    def threshold(self) -> float:
        """The lowest language's threshold: below it, nothing is danger."""
        return self._lowest

    @property
    def languages(self) -> list[str]:
        return self.header["languages"]

    @property
    def corpus_digest(self) -> str:
        return self.header["corpus_digest"]

    # --- reading and writing -------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "Model":
        raw = Path(path).read_bytes()
        if not raw.startswith(MAGIC):
            raise ValueError(f"{path}: not a danger model file")
        head, _, body = raw[len(MAGIC):].partition(b"\n")
        header = json.loads(head)
        if header.get("features") != features.VERSION:
            raise ValueError(f"{path}: made for features version {header.get('features')}, "
                             f"this code reads version {features.VERSION}: run `ivr-line safety train`")
        data = array("f")
        data.frombytes(zlib.decompress(body))
        if sys.byteorder != "little":
            data.byteswap()
        n = header["buckets"]
        return cls(header, data[:n], data[n:])

    def dumps(self) -> bytes:
        data = array("f", self.weights) + array("f", self.lang_weights)
        if sys.byteorder != "little":
            data.byteswap()
        head = json.dumps(self.header, sort_keys=True, separators=(",", ":")).encode()
        return MAGIC + head + b"\n" + zlib.compress(data.tobytes(), 9)

    # --- scoring -----------------------------------------------------------------
    def _char_sum(self, word: str) -> tuple[float, int]:
        hs = features.char_hashes(word)
        w, mask = self.weights, self._mask
        return sum(w[h & mask] for h in hs), len(hs)

    def _evidence(self, words: list[str]) -> float:
        """What the words themselves say (the logit less the bias)."""
        total, count = 0.0, 0
        for word in words:
            s, n = self._chars(word)
            total += s
            count += n
        logit = total / math.sqrt(count) if count else 0.0
        wordish = [features.word_hash(w) for w in words] + features.pair_hashes(words)
        if wordish:
            w, mask = self.weights, self._mask
            logit += features.WORD_WEIGHT * sum(w[h & mask] for h in wordish) / math.sqrt(len(wordish))
        return logit

    def score(self, words: list[str]) -> float:
        """Probability that these folded words tell of danger now (the most alarming window).

        Words the model knows nothing of (gibberish, a language it never saw) leave only
        the bias; they score 0, so only evidence in the words can raise the alarm."""
        if not words:
            return 0.0
        evidence = max(self._evidence(run) for run in features.windows(words))
        if evidence <= 0:
            return 0.0
        logit = self._bias + evidence
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def decide(self, words: list[str]) -> tuple[bool, str | None, float]:
        """(danger?, the language it is written in, the score), with each language's own
        threshold; the language is worked out only for a score that could be danger."""
        score = self.score(words)
        if score < self._lowest:
            return False, None, score
        lang = self.language(words)
        return score >= self._thresholds.get(lang, self._lowest), lang, score

    def _word_language(self, word: str) -> tuple[float, ...]:
        n, mask, lw = len(self.languages), self.header["lang_buckets"] - 1, self.lang_weights
        totals = [0.0] * n
        for h in (*features.char_hashes(word), features.word_hash(word)):
            base = (h & mask) * n
            for i in range(n):
                totals[i] += lw[base + i]
        return tuple(totals)

    def language(self, words: list[str], margin: float = 0.0) -> str | None:
        """The corpus language these words look most like (a small naive Bayes model);
        with `margin`, None unless it beats the next by that many nats (real sentences
        win by a hundred or more, gibberish by a few)."""
        langs = self.languages
        if not words or not langs:
            return None
        totals = list(self.header["lang_prior"])
        for word in words:
            for i, v in enumerate(self._word_lang(word)):
                totals[i] += v
        ranked = sorted(range(len(langs)), key=totals.__getitem__, reverse=True)
        if len(ranked) > 1 and totals[ranked[0]] - totals[ranked[1]] < margin:
            return None
        return langs[ranked[0]]
