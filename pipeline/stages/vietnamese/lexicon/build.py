"""Build the Vietnamese correction model from the project's corpus (deterministic).

    python -m pipeline.stages.vietnamese.lexicon.build   # writes syllables.txt, model.tsv.gz
    python -m pipeline.stages.vietnamese.lexicon.build --exclude born_digital/vht534.txt --out m/

Inputs, all under `corpus/` (provenance and licences in `corpus/SOURCES.md`):

- running text (`*.txt` outside the word lists, including `born_digital/`): syllable unigram and
  bigram counts, weighted `TEXT_WEIGHT`;
- `pyvi_words.txt`, a dictionary of multi-syllable words: +1 per syllable and per adjacent
  syllable pair inside a word (which syllables go together, though not how often);
- `tesseract_vie_words.txt`, Tesseract's `vie` word list: +1 per valid syllable (attested);
- a syllable inventory generated from Vietnamese phonotactics (onsets x rhymes x tones, with
  the spelling rules for c/k, g/gh, ng/ngh): count 0, so such syllables are candidates only
  when nothing attested fits. Written to `syllables.txt`.

`--exclude` leaves corpus files out (glob, relative to `corpus/`), to measure on held-out pages
(the development bench corrects each born-digital document with a model built without it).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path

from models.language.text import canonical_tones, is_vietnamese_syllable, nfc
from pipeline.stages.vietnamese.model import BOS, lm_keys

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
WORD_LISTS = ("pyvi_words.txt", "tesseract_vie_words.txt")
TEXT_WEIGHT = 3
MODEL_NAME = "sohoa-vi-syllable-bigram"

_INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
_RHYME_VOWELS = (
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uy", "uê", "iê",
    "yê", "uô", "ươ", "uyê", "oă", "uâ", "oo", "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu",
    "ia", "iu", "oi", "ôi", "ơi", "ua", "ui", "ưa", "ưi", "ưu", "uơ", "iêu", "yêu", "oai",
    "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyu",
)  # fmt: skip
_FINALS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
_TONE_MARKS = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_FRONT = ("i", "e", "ê", "y")


def _spelling_ok(initial: str, rhyme: str) -> bool:
    """Orthographic rules of the onsets: k/gh/ngh before front vowels, c/g/ng elsewhere."""
    front = rhyme.startswith(_FRONT)
    if initial in ("k", "gh", "ngh"):
        return front
    if initial == "c":  # coa, cuy... are spelled qua, quy
        return not front and not rhyme.startswith(("oa", "oă", "oe", "uy", "uê", "uâ"))
    if initial in ("g", "ng"):
        return not front or (initial == "g" and rhyme.startswith("i"))
    if initial == "qu":
        return not rhyme.startswith(("u", "o"))
    if initial == "gi":
        return not rhyme.startswith("i")
    return not (initial == "" and rhyme.startswith("y") and rhyme != "y" and rhyme[:2] != "yê")


def generated_syllables() -> list[str]:
    """Every syllable the phonotactic rules allow, NFC, new-style tones, sorted."""
    found: set[str] = set()
    for initial in _INITIALS:
        for vowels in _RHYME_VOWELS:
            for final in _FINALS:
                if not _spelling_ok(initial, vowels + final):
                    continue
                for tone in _TONE_MARKS:
                    word = nfc(initial + vowels[0] + tone + vowels[1:] + final)
                    if is_vietnamese_syllable(word):
                        found.add(canonical_tones(word))
    return sorted(found)


def _text_files(exclude: Iterable[str]) -> list[Path]:
    skipped = {p for pattern in exclude for p in CORPUS.glob(pattern)}
    files = sorted(CORPUS.rglob("*.txt"))
    return [p for p in files if p.name not in WORD_LISTS and p not in skipped]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _syllable_keys(keys: list[str]) -> Iterator[str]:
    return (k for k in keys if not k.startswith("<"))


def count(exclude: Iterable[str] = ()) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Unigram and bigram counts from the corpus (see the module docstring for weights)."""
    uni: Counter[str] = Counter()
    bi: Counter[tuple[str, str]] = Counter()
    for path in _text_files(exclude):
        keys = lm_keys(_read(path))
        for k in keys:
            if k != BOS:
                uni[k] += TEXT_WEIGHT
        for a, b in pairwise(keys):
            if b != BOS:
                bi[(a, b)] += TEXT_WEIGHT
    for line in _read(CORPUS / "pyvi_words.txt").splitlines():
        keys = lm_keys(line)
        if "<unk>" in keys or "<num>" in keys or BOS in keys[1:]:
            continue
        syllables = list(_syllable_keys(keys))
        uni.update(syllables)
        bi.update(pairwise(syllables))
    for line in _read(CORPUS / "tesseract_vie_words.txt").splitlines():
        word = line.strip()
        if word.isalpha() and is_vietnamese_syllable(word):
            uni[canonical_tones(word.lower())] += 1
    return uni, bi


def render(uni: Counter[str], bi: Counter[tuple[str, str]], inventory: list[str]) -> bytes:
    """The model as gzip TSV bytes; the version is a hash of the table, so equal input gives
    byte-equal output."""
    for s in inventory:
        uni.setdefault(s, 0)
    rows = [f"1\t{k}\t{n}\n" for k, n in sorted(uni.items())]
    rows += [f"2\t{a}\t{b}\t{n}\n" for (a, b), n in sorted(bi.items())]
    body = "".join(rows)
    version = f"{MODEL_NAME}/{hashlib.sha256(body.encode()).hexdigest()[:12]}"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(f"#model\t{version}\n{body}".encode())
    return buf.getvalue()


def build(out: Path, exclude: Iterable[str] = ()) -> Path:
    inventory = generated_syllables()
    uni, bi = count(exclude)
    out.mkdir(parents=True, exist_ok=True)
    (out / "syllables.txt").write_text("\n".join(inventory) + "\n", encoding="utf-8")
    model = out / "model.tsv.gz"
    model.write_bytes(render(uni, bi, inventory))
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--exclude", action="append", default=[], help="glob under corpus/")
    args = parser.parse_args(argv)
    model = build(args.out, args.exclude)
    print(f"wrote {model} ({model.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
