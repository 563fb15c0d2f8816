"""Realistic text for generated records, learnt from the real publisher samples.

A first-order Markov chain over the words of every text field of the real samples writes
one long stream of text once; each generated field is a slice of it, so word frequencies
follow the real corpus (common words are common, as in the real data) while every record
reads differently. `rare_code()` adds the long tail a real corpus has (drug codes).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*|[.,;:()]")
SENTENCE_END = {"."}


def texts_of(document: Any) -> Iterator[str]:
    """Every string longer than three words inside a JSON document."""
    if isinstance(document, dict):
        for value in document.values():
            yield from texts_of(value)
    elif isinstance(document, list):
        for value in document:
            yield from texts_of(value)
    elif isinstance(document, str) and document.count(" ") >= 3:
        yield document


class TextModel:
    def __init__(self, texts: Iterable[str], *, seed: int = 7, stream_words: int = 2_000_000):
        self.random = random.Random(seed)
        successors: dict[str, list[str]] = defaultdict(list)
        for text in texts:
            words = WORD.findall(text)
            for current, following in zip(words, words[1:], strict=False):
                successors[current].append(following)
        self.successors = {word: nexts for word, nexts in successors.items() if nexts}
        self.starts = [word for word in self.successors if word[0].isupper()]
        self.stream = self._walk(stream_words)

    def _walk(self, count: int) -> list[str]:
        words: list[str] = []
        word = self.random.choice(self.starts)
        while len(words) < count:
            words.append(word)
            nexts = self.successors.get(word)
            word = self.random.choice(nexts) if nexts else self.random.choice(self.starts)
        return words

    def text(self, words: int, rand: random.Random | None = None) -> str:
        """A passage of about `words` words, starting at a random point of the stream
        (drawn with `rand` when given: a generator that makes a record from its own seed)."""
        start = (rand or self.random).randrange(0, len(self.stream) - words - 1)
        passage = " ".join(self.stream[start : start + words])
        passage = re.sub(r" ([.,;:)])", r"\1", passage).replace("( ", "(")
        return passage[:1].upper() + passage[1:]

    def rare_code(self) -> str:
        """A code-like name (e.g. "KX-4821"), as drug candidates are named."""
        letters = "".join(self.random.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(2))
        return f"{letters}-{self.random.randrange(100, 9999)}"
