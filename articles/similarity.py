"""Similarity signatures of articles' text: MinHash (datasketch) with LSH band keys.

An article's title and body are normalised (text only, case-folded, Unicode-normalised, words
only) and cut into overlapping runs of `SHINGLE_WORDS` words, each hashed to 32 bits: the
article's *shingles*. A MinHash of `NUM_PERM` permutations (a fixed seed and scheme, so
signatures stored years apart stay comparable) summarises that set; its values are split into
`BANDS` bands of `ROWS` and each band is hashed into a 64-bit key, with its band number folded
in. Two texts share a band key with a probability that rises steeply with their Jaccard
similarity, so candidates are the articles that share at least one key: indexed lookups
(`SimilarityKey`'s primary key), never a scan of the archive.

Candidates are then scored exactly, from their stored shingles: the *containment* of the
smaller set in the larger one (the share of the shorter text's runs of words that the longer
one also has). A shortened or extended rewrite keeps most of its sentences and scores high
although its Jaccard similarity with the original is modest; a different story on the same
topic shares phrases but few runs of words. Scores at or above `THRESHOLD` are linked.

An exact copy (the same body text, whatever the title) is recognised by `text_hash`, which is
stored as one more lookup key beside the bands.

This module is pure: it computes. `articles.models.ContentSignature` and `SimilarityKey` store
what it computes; `syndication.pipeline.duplicates` links imports to their matches.
"""

import functools
import hashlib
import itertools
import operator
import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from .sanitize import plain_text

# 64 permutations: exactly the values the 32 bands of 2 use. They are the first 64 of the 128
# permutations that datasketch draws for a MinHash of 128 under the same seed and scheme, which
# is what signatures had until December 2026: their first 64 values, and so the band keys
# stored before, are the values and keys computed now (`_permutations`). A MinHash built with
# num_perm=64 would draw other permutations (datasketch draws all the multipliers, then all
# the offsets), hence the slice.
NUM_PERM = 64
PERMUTATIONS_DRAWN = 128
SEED = 20261202
SCHEME = "affine32"
# 32 bands of 2 values. Every key is a row to write and an index probe to make at each import,
# and 32 bands find as many of the evaluation set's duplicates as 64 did (docs/duplicates.md).
BANDS = 32
ROWS = 2  # BANDS * ROWS <= NUM_PERM
SHINGLE_WORDS = 3
THRESHOLD = 0.5
# Below this many word runs a text is too short to call a near copy (a headline-only item); an
# exact copy is still caught by its hash.
MIN_SHINGLES = 8
# A story syndicated very widely shares band keys with many articles; only this many of them
# are scored, so the lookup stays bounded whatever the archive holds.
MAX_CANDIDATES = 200

_WORD = re.compile(r"\w+")
# Byte by byte: an ASCII word character lower-cased, anything else a space (see `words`).
_ASCII_WORD_BYTES = (
    bytes(
        ord(chr(byte).lower()) if chr(byte).isalnum() or chr(byte) == "_" else ord(" ")
        for byte in range(128)
    )
    + b" " * 128
)


@dataclass(frozen=True)
class Signature:
    """What is stored of a text: its MinHash values, its shingles and its exact hash."""

    hashvalues: np.ndarray  # NUM_PERM uint64 values (each below 2**32)
    shingles: np.ndarray  # sorted, unique uint32 hashes of the runs of words
    text_hash: str

    @property
    def band_keys(self) -> list[int]:
        return band_keys(self.hashvalues)

    @functools.cached_property
    def lookup_keys(self) -> list[int]:
        """What is stored and looked up: the band keys, and one key for the exact text
        (worked out once: an import stores them, then looks its matches up with them)."""
        return [*self.band_keys, exact_key(self.text_hash)]

    def minhash_bytes(self) -> bytes:
        return self.hashvalues.astype("<u8").tobytes()

    def shingle_bytes(self) -> bytes:
        return self.shingles.astype("<u4").tobytes()


@dataclass(frozen=True)
class Match:
    article_id: int
    similarity: float
    exact: bool


def words(text: str) -> list[bytes]:
    """The words of a plain text, Unicode-normalised and case-folded, in UTF-8.

    An ASCII text (most of what the wires send) takes a shortcut to the same words: NFKC
    leaves ASCII as it is, case-folding ASCII is lower-casing, and the word characters of
    ASCII are its letters, digits and underscore; one byte table lowers those and blanks the
    rest, and a split cuts the words out, in a tenth of the regular expression's time."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORD_BYTES).split()
    found = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    # Words hold no spaces: encoded all at once, then cut apart again.
    return " ".join(found).encode().split(b" ") if found else []


def shingles(*texts: list[bytes]) -> np.ndarray:
    """The 32-bit hashes of every run of `SHINGLE_WORDS` consecutive words of each text (of the
    whole text when it is shorter; no run straddles two texts), sorted, without repeats. Each
    word gets a CRC-32 and the runs are mixed from those in numpy, which keeps a long article
    at a fraction of a millisecond."""
    tokens = list(itertools.chain.from_iterable(texts))
    if not tokens:
        return np.empty(0, dtype=np.uint32)
    word_hashes = np.fromiter(map(zlib.crc32, tokens), np.uint64, len(tokens))
    if all(len(text) >= SHINGLE_WORDS for text in texts):
        # Every run of the texts laid end to end, then those that straddle two are left out:
        # one pass of numpy instead of one per text.
        mixed = _runs(word_hashes, SHINGLE_WORDS)
        keep = np.ones(len(mixed), dtype=bool)
        end = 0
        for text in texts[:-1]:
            end += len(text)
            keep[end - SHINGLE_WORDS + 1 : end] = False
        mixed = mixed[keep]
    else:
        parts, start = [], 0
        for text in texts:
            if text:
                piece = word_hashes[start : start + len(text)]
                parts.append(_runs(piece, min(SHINGLE_WORDS, len(text))))
            start += len(text)
        mixed = np.concatenate(parts)
    return _sorted_unique((mixed >> np.uint64(32)).astype(np.uint32))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` of a short array, in a seventh of its time (measured at 561 values)."""
    values = np.sort(values)
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def _runs(word_hashes: np.ndarray, width: int) -> np.ndarray:
    """One 64-bit hash per run of `width` consecutive word hashes."""
    runs = len(word_hashes) - width + 1
    mixed = np.zeros(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            mixed = _mix(mixed ^ word_hashes[offset : offset + runs])
    return mixed


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit moves every output bit."""
    values = values + _GOLDEN
    values = (values ^ (values >> _SHIFTS[0])) * _MULTIPLIERS[0]
    values = (values ^ (values >> _SHIFTS[1])) * _MULTIPLIERS[1]
    return values ^ (values >> _SHIFTS[2])


def signature(title: str, body_html: str, *, seed: int = SEED) -> Signature | None:
    """The signature of an article's title and (HTML) body; None when it has no words.

    Band keys are comparable only under the same `seed`: stored signatures use `SEED` (other
    seeds serve the evaluation, to show how much its figures owe to chance)."""
    return signature_of_text(plain_text(title), plain_text(body_html), seed=seed)


def signature_of_text(title: str, body: str, *, seed: int = SEED) -> Signature | None:
    """`signature` of a title and a body given as plain text (`sanitize.plain_text`'s)."""
    body_words = words(body)
    title_words = words(title)
    # Title and body are shingled apart, so no run of words straddles the two.
    pieces = shingles(title_words, body_words)
    if not len(pieces):
        return None
    # The runs arrive hashed: datasketch's hash function only has to hand the ints on.
    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=seed,
        scheme=SCHEME,
        hashfunc=operator.index,
        permutations=_permutations(seed),
    )
    minhash.update_batch(pieces.tolist())
    exact_words = body_words or title_words
    return Signature(
        hashvalues=np.array(minhash.hashvalues, dtype=np.uint64),
        shingles=pieces,
        text_hash=hashlib.sha256(b" ".join(exact_words)).hexdigest(),
    )


@functools.cache
def _permutations(seed: int) -> np.ndarray:
    """The MinHash permutations of a seed: the first `NUM_PERM` of the `PERMUTATIONS_DRAWN`
    that datasketch draws (see `NUM_PERM`), drawn once per process (datasketch would draw them
    again for every MinHash)."""
    drawn = MinHash(num_perm=PERMUTATIONS_DRAWN, seed=seed, scheme=SCHEME).permutations
    return np.ascontiguousarray(drawn[:, :NUM_PERM])


def band_keys(hashvalues: np.ndarray) -> list[int]:
    """One signed 64-bit key per band: the band number and its values, hashed together."""
    values = np.asarray(hashvalues, dtype="<u8").tobytes()
    width = ROWS * 8
    keys = []
    for band, hasher in enumerate(_band_hashers()):
        hasher = hasher.copy()
        hasher.update(values[band * width : (band + 1) * width])
        keys.append(int.from_bytes(hasher.digest(), "little", signed=True))
    return keys


@functools.cache
def _band_hashers() -> tuple:
    """An 8-byte BLAKE2b personalised with each band's number, to be copied: setting one up
    costs more than hashing a band's 16 bytes."""
    return tuple(
        hashlib.blake2b(digest_size=8, person=band.to_bytes(2, "little") + b"syndicms")
        for band in range(BANDS)
    )


def exact_key(text_hash: str) -> int:
    """The exact text's hash as a lookup key: beside the band keys, so that one indexed query
    finds exact copies and near ones (its own personalisation keeps it apart from bands)."""
    digest = hashlib.blake2b(bytes.fromhex(text_hash), digest_size=8, person=b"exact").digest()
    return int.from_bytes(digest, "little", signed=True)


def shingles_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4")


def containment(first: np.ndarray, second: np.ndarray) -> float:
    """The share of the smaller set of shingles that the larger one holds too, from 0 to 1;
    0 for a text too short to judge."""
    smaller = min(len(first), len(second))
    if smaller < MIN_SHINGLES:
        return 0.0
    return len(np.intersect1d(first, second, assume_unique=True)) / smaller


def best_matches(signature: Signature, rows, threshold: float = THRESHOLD) -> list[Match]:
    """Score (article id, shingle bytes, text hash) rows; keep those at or above the
    threshold, best first. An exact copy scores 1."""
    matches = []
    for article_id, stored_shingles, text_hash in rows:
        exact = text_hash == signature.text_hash
        if exact:
            score = 1.0
        else:
            score = containment(signature.shingles, shingles_from_bytes(stored_shingles))
        if score >= threshold:
            matches.append(Match(article_id, round(score, 3), exact))
    return sorted(matches, key=lambda match: (-match.similarity, match.article_id))
