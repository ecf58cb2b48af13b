"""The split of the OCR data, written down so it cannot blur again (issue 19).

"Evaluation data is not development data." Two sets, and a third never read here:

- **development** (`DEVELOPMENT`, ../shared/data/ocr-vie/born_digital): 8 real born-digital
  PDFs, 16 pages with text. Each page is drawn from its PDF and damaged as a scanner or a
  phone would (`scanner`, `phone`: skew, blur, uneven light, noise, JPEG); its ground truth is
  the page's own text layer (pdfplumber, NFC). Rules, thresholds, defaults, corpora and test
  fixtures may be chosen here. The Vietnamese corrector reads each page with a model built
  *without* that page's document (`Page.exclude`), so its figures stay held out.
- **report only** (`REPORT_ONLY`, ../shared/data/ocr-vie/gov_docs): 3 real scanned government
  pages with human ground truth. Figures on them are printed, labelled "report only", and are
  never used to choose anything. They never feed a corpus or a test.
- **generated signed** (`generated_pages`): administrative decisions drawn by
  tests/factories/degrade.admin_page (our own wording: a two-column header, body, the
  "Nơi nhận:" list beside the signer under a seal and a signature), damaged as above; the truth
  is in reading order. Development data: the reading order of headers and footers is chosen here.
- **sealed** (../shared/sealed): never opened by anything in this repository.

Reading order: a development page's `truth` is pdfplumber's text, which orders words by rows
("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI…" as one line); its `reading` is the PDF's content order
(pypdfium2), which for the letters written in a word processor keeps each header and footer
block whole, as a person reads them (the Công báo pages print by rows either way). Word recall
and precision are scored on `truth`; CER on both.

`check_corpus` verifies the corrector's corpus holds no 4-word run of the report-only truth
that the development text does not also print (it reads the evaluation text only to assert
that absence).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from bench.common import REPO

DATA = REPO.parent / "shared" / "data" / "ocr-vie"
DEVELOPMENT = DATA / "born_digital"
REPORT_ONLY = DATA / "gov_docs"
PROFILES = ("scanner", "phone")
DEV_LABEL, GEN_LABEL, REPORT_LABEL = "development", "generated signed", "report only"


@dataclass(frozen=True)
class Page:
    set: str
    """DEV_LABEL or REPORT_LABEL."""
    name: str
    image: Path
    truth: str
    exclude: str | None
    """Corpus glob (under pipeline/stages/vietnamese/lexicon/corpus) the corrector's model is built
    without for this page; None: the shipped model (report-only pages are in no corpus)."""
    reading: str | None = None
    """The truth in the order a person reads it, when it differs in kind from `truth`."""


def corpus_name(pdf: Path) -> str:
    """The corpus file (`born_digital/<name>.txt`) that holds a development PDF's text."""
    name = pdf.name.split("__", 1)[-1]
    name = re.sub(r"\.signed_\d+_\d+", "", name).removesuffix(".pdf")
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40]


def _texts(pdf: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        return [unicodedata.normalize("NFC", p.extract_text() or "") for p in doc.pages]


def _reading_texts(pdf: Path) -> list[str]:
    """Each page's text in the PDF's content order (pypdfium2), NFC."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [unicodedata.normalize("NFC", p.get_textpage().get_text_range()) for p in doc]
    finally:
        doc.close()


def _render(pdf: Path, index: int, dpi: int) -> Image.Image:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return doc[index].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


def damage(grey: Image.Image, profile: str, seed: int) -> tuple[Image.Image, int | None]:
    """(damaged page, dpi to record or None). `scanner`: 300 dpi, skew under 1.5°, slight
    blur, sensor noise, JPEG q 70. `phone`: about 170 dpi with no dpi recorded, skew up to 3°,
    light falling off across the page, blur, noise, JPEG q 55."""
    rng = np.random.default_rng(seed)
    if profile == "phone":
        scale = 170 / 300
        grey = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.LANCZOS)
    skew = float(rng.uniform(0.3, 1.5 if profile == "scanner" else 3.0) * rng.choice([-1, 1]))
    grey = grey.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=250)
    grey = grey.filter(ImageFilter.GaussianBlur(0.7 if profile == "scanner" else 1.0))
    a = np.asarray(grey, dtype=np.float32)
    if profile == "phone":
        h, w = a.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        light = 1.0 - 0.35 * (xs / w) * (0.5 + ys / h)
        a = 230 * light - (255 - a) / 255 * 230 * light * 0.85
    a = a + rng.normal(0, 6 if profile == "scanner" else 9, a.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L").save(
        buf, "JPEG", quality=70 if profile == "scanner" else 55
    )
    return Image.open(io.BytesIO(buf.getvalue())).convert("L"), (
        300 if profile == "scanner" else None
    )


def development_pages(folder: Path, limit: int | None = None) -> list[Page]:
    """Every development page with text, drawn at 300 dpi and damaged; profiles alternate
    page by page (seeded, so every run reads the same pixels)."""
    pages: list[Page] = []
    for pdf in sorted(DEVELOPMENT.glob("*.pdf")):
        readings = _reading_texts(pdf)
        for index, truth in enumerate(_texts(pdf)):
            if len(truth.split()) < 20:
                continue  # the back cover of QĐ 1373 has no text layer
            n = len(pages)
            profile = PROFILES[n % len(PROFILES)]
            image, dpi = damage(_render(pdf, index, 300), profile, seed=n)
            path = folder / f"dev-{n:02d}-{profile}.png"
            image.save(path, dpi=(dpi, dpi)) if dpi else image.save(path)
            name = f"{corpus_name(pdf)[:24]} p{index + 1} {profile}"
            exclude = f"born_digital/{corpus_name(pdf)}.txt"
            pages.append(Page(DEV_LABEL, name, path, truth, exclude, readings[index]))
            if limit and len(pages) >= limit:
                return pages
    return pages


def generated_pages(folder: Path, count: int) -> list[Page]:
    """`count` generated signed decisions (tests/factories/degrade.admin_page), profiles
    alternating, seeded; the truth is in reading order."""
    from tests.factories.degrade import admin_page

    pages = []
    for seed in range(count):
        profile = PROFILES[seed % len(PROFILES)]
        drawn, truth = admin_page(seed, dpi=300)
        image, dpi = damage(drawn, profile, seed=500 + seed)
        path = folder / f"gen-{seed:02d}-{profile}.png"
        image.save(path, dpi=(dpi, dpi)) if dpi else image.save(path)
        pages.append(Page(GEN_LABEL, f"admin_page {seed} {profile}", path, truth, None, truth))
    return pages


def report_only_pages() -> list[Page]:
    """The gov_docs pages (report only: never used to choose anything)."""
    out = []
    for png in sorted(REPORT_ONLY.glob("*_p1.png")):
        truth = png.with_name(png.name.replace(".png", ".gt.txt")).read_text("utf-8")
        out.append(Page(REPORT_LABEL, png.stem, png, truth, None))
    return out


def _shingles(words: list[str], n: int = 4) -> Iterator[tuple[str, ...]]:
    return (tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def check_corpus() -> list[str]:
    """Corpus lines that share a 4-word run with the report-only truth and that the
    development text does not also print (should be empty)."""
    from bench.textmetrics import words

    corpus = REPO / "pipeline" / "stages" / "vietnamese" / "lexicon" / "corpus"
    evaluation = {s for f in REPORT_ONLY.glob("*.gt.txt") for s in _shingles(words(f.read_text()))}
    dev: set[tuple[str, ...]] = set()
    for pdf in DEVELOPMENT.glob("*.pdf"):
        for text in _texts(pdf):
            dev.update(_shingles(words(text)))
    leaks = evaluation - dev
    bad = []
    for path in sorted(corpus.rglob("*.txt")):
        if path.name in ("pyvi_words.txt", "tesseract_vie_words.txt", "pyvi_LICENSE.txt"):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if any(s in leaks for s in _shingles(words(line))):
                bad.append(f"{path.relative_to(corpus)}:{n}: {line[:80]}")
    return bad
