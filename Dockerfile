# sohoa image: one image for every distributed process (web, worker, follow).
# The command picks the process; see docker-compose.yml.
FROM python:3.11-slim-bookworm

# OMP_THREAD_LIMIT=1: Tesseract runs one page per worker process; its OpenMP threads
# would only fight the Dramatiq processes for the same cores.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_THREAD_LIMIT=1 \
    SOHOA_DATA_DIR=/data

# Tesseract with the Vietnamese, English, French and Hán (chi_tra) models; DejaVu for
# the searchable PDFs' text layer; libgomp1 for Open3D; libgl1/libglib2.0-0 for OpenCV and
# pdfium, libusb-1.0-0 for the scanner drivers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr \
        tesseract-ocr-vie \
        tesseract-ocr-eng \
        tesseract-ocr-fra \
        tesseract-ocr-chi-tra \
        fonts-dejavu-core \
        libgomp1 \
        libgl1 \
        libglib2.0-0 \
        libusb-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 sohoa \
    && useradd --system --uid 10001 --gid sohoa --home-dir /home/sohoa --create-home \
        --shell /usr/sbin/nologin sohoa \
    && mkdir -p /data \
    && chown sohoa:sohoa /data

WORKDIR /app

# Dependencies first, in their own layer: the project metadata alone installs every
# pinned dependency, so editing the source does not reinstall numpy/OpenCV/etc.
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .

COPY models ./models
COPY storage ./storage
COPY search ./search
COPY pipeline ./pipeline
COPY workers ./workers
COPY scanners ./scanners
COPY web ./web
RUN pip install --no-cache-dir --no-deps --force-reinstall . \
    && rm -rf build ./*.egg-info

# /data is owned by sohoa, so a named volume mounted there starts out writable by it
# (Docker copies the image folder's ownership into an empty volume).
USER sohoa

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["sohoa", "serve", "--host", "0.0.0.0", "--port", "8000"]
