"""Assemble the AWS Lambda layer zip of the embedding models (called by `build.sh layer`).

usage: python make_layer.py --dest DEST --arch x86_64|arm64 --lib LIB --lib-sha256 HEX
                            --model-ids ID[,ID...] --out ZIP [--no-minify]

The zip unpacks under /opt as /opt/models/..., the layout `RAG_MODEL_DIR=/opt/models` expects
(layers/core/src/embed/onnx.rs, `OnnxEmbedder::load`):

    models/lib/libonnxruntime.so          LIB, copied under the name the code dlopen()s
    models/<id>/model.int8.onnx           if DEST/<id>/model.int8.onnx exists (int8, the
                                          default precision), otherwise models/<id>/model.onnx
                                          (models shipped quantised have a single model.onnx)
    models/<id>/tokenizer.json            whitespace outside strings removed (see minify_json)
    models/<id>/embed_config.json

Nothing else: no fp32 model.onnx next to an int8 one, no versioned library name (nothing
opens it: the code opens lib/libonnxruntime.so by path and no other library in the layer has
a DT_NEEDED on the SONAME), no SHA256SUMS (nothing reads it at run time; DEST's would list
files that are not in the layer).

Every source file is checked while it is read: its sha256 must match DEST/SHA256SUMS (the
library: --lib-sha256, pinned in build.sh), and the library's ELF machine must match --arch.

Deterministic: entries sorted by name, fixed timestamps (1980-01-01), fixed permissions
(0644 files, 0755 directories), zlib's default level. The archive comment records the inputs
(arch, options, sha256 of every source file); if ZIP exists with the same comment and
ZIP.sha256 verifies, nothing is rewritten ("layer up to date"). ZIP.sha256 is written next
to the zip (`sha256sum -c` format). Progress and the size table go to stderr.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import sys
import zipfile

FORMAT = "rag-model-layer v1"
DATE = (1980, 1, 1, 0, 0, 0)
CHUNK = 1 << 20
LAMBDA_LIMIT = 250 * 1024 * 1024  # function + all its layers, unzipped (262,144,000 bytes)
ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}


def log(msg):
    print(f"[layer] {msg}", file=sys.stderr, flush=True)


def die(msg):
    print(f"make_layer.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def read_sums(dest):
    sums = {}
    path = os.path.join(dest, "SHA256SUMS")
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if len(line) > 66:
                    sums[line[66:]] = line[:64]
    except OSError as e:
        die(f"cannot read {path}: {e} (build the models first: layers/model/build.sh {dest})")
    return sums


# A JSON string (escapes kept verbatim) or a run of JSON whitespace.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[ \t\n\r]+')


def minify_json(data):
    """Removes the whitespace outside strings and nothing else: strings, numbers (their exact
    digits), key order are untouched, so any JSON parser reads the same document. Checked
    here by parsing both texts."""
    text = data.decode("utf-8")
    out = _TOKEN.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else "", text)
    if out == text:
        return data
    if json.loads(out) != json.loads(text):
        die("minified JSON does not parse to the same document")
    return out.encode("utf-8")


def entries(args, sums):
    """(arcname, source path, expected sha256, transform) for every file of the layer."""
    lib_arc = "models/lib/libonnxruntime.so"
    files = [(lib_arc, args.lib, args.lib_sha256, "lib")]
    for mid in args.model_ids:
        if not mid or "/" in mid or mid in (".", "..", "lib"):
            die(f"bad model id {mid!r}")
        int8 = f"{mid}/model.int8.onnx"
        weights = int8 if int8 in sums else f"{mid}/model.onnx"
        for rel in (weights, f"{mid}/tokenizer.json", f"{mid}/embed_config.json"):
            if rel not in sums:
                die(f"{rel} is not in {args.dest}/SHA256SUMS (is {mid} built? see "
                    "WITH_MINILM / WITH_USE in build.sh)")
            minify = args.minify and rel.endswith("/tokenizer.json")
            files.append((f"models/{rel}", os.path.join(args.dest, rel), sums[rel],
                          "minify" if minify else "copy"))
    return sorted(files)


def inputs_comment(args, files):
    h = hashlib.sha256()
    for arc, _src, sha, how in files:
        h.update(f"{arc}\0{sha}\0{how}\n".encode())
    return f"{FORMAT} arch={args.arch} minify={int(args.minify)} inputs={h.hexdigest()}"


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def up_to_date(out, comment):
    side = out + ".sha256"
    try:
        with zipfile.ZipFile(out) as z:
            if z.comment.decode("utf-8", "replace") != comment:
                return False
        with open(side, encoding="utf-8") as f:
            recorded = f.read().split()[0]
    except (OSError, zipfile.BadZipFile, IndexError):
        return False
    return recorded == file_sha256(out)


def zinfo(name, is_dir):
    zi = zipfile.ZipInfo(name, date_time=DATE)
    zi.create_system = 3  # unix: external_attr carries the mode
    if is_dir:
        zi.external_attr = (0o40755 << 16) | 0x10
        zi.compress_type = zipfile.ZIP_STORED
    else:
        zi.external_attr = 0o100644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def check_elf(arc, head, arch):
    if head[:4] != b"\x7fELF" or head[4] != 2:
        die(f"{arc}: not a 64-bit ELF file")
    machine = int.from_bytes(head[18:20], "little")
    if machine != ELF_MACHINE[arch]:
        die(f"{arc}: ELF machine 0x{machine:x}, expected 0x{ELF_MACHINE[arch]:x} for {arch}")


def write_zip(args, files, comment):
    tmp = f"{args.out}.tmp{os.getpid()}"
    table = []
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            dirs = set()
            for arc, *_ in files:
                parts = arc.split("/")[:-1]
                dirs.update("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
            names = sorted([(d, None) for d in dirs] + [(f[0], f) for f in files])
            for name, f in names:
                if f is None:
                    z.writestr(zinfo(name, True), b"")
                    continue
                arc, src, sha, how = f
                h = hashlib.sha256()
                if how == "minify":
                    with open(src, "rb") as fh:
                        data = fh.read()
                    h.update(data)
                    if h.hexdigest() != sha:
                        die(f"{src}: sha256 {h.hexdigest()} does not match SHA256SUMS ({sha})")
                    out = minify_json(data)
                    z.writestr(zinfo(arc, False), out)
                    table.append((arc, len(out), len(data) if out != data else None,
                                  hashlib.sha256(out).hexdigest()))
                    continue
                size = 0
                with open(src, "rb") as fh, z.open(zinfo(arc, False), "w") as dst:
                    first = True
                    for block in iter(lambda: fh.read(CHUNK), b""):
                        if first and how == "lib":
                            check_elf(arc, block[:20], args.arch)
                        first = False
                        h.update(block)
                        dst.write(block)
                        size += len(block)
                if h.hexdigest() != sha:
                    die(f"{src}: sha256 {h.hexdigest()} does not match the expected {sha}")
                table.append((arc, size, None, sha))
            z.comment = comment.encode("utf-8")
        # read back: names and CRCs
        with zipfile.ZipFile(tmp) as z:
            bad = z.testzip()
            if bad is not None:
                die(f"{tmp}: CRC error in {bad}")
        digest = file_sha256(tmp)
        with open(args.out + ".sha256.tmp", "w", encoding="utf-8") as f:
            f.write(f"{digest}  {os.path.basename(args.out)}\n")
        os.replace(tmp, args.out)
        os.replace(args.out + ".sha256.tmp", args.out + ".sha256")
    finally:
        for p in (tmp, args.out + ".sha256.tmp"):
            if os.path.exists(p):
                os.remove(p)
    return table


def main():
    # SIGTERM unwinds like Ctrl-C, so that no half-written OUT.tmp* file is left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dest", required=True, help="built model directory (build.sh DEST)")
    ap.add_argument("--arch", required=True, choices=sorted(ELF_MACHINE))
    ap.add_argument("--lib", required=True, help="libonnxruntime.so.X.Y.Z for --arch")
    ap.add_argument("--lib-sha256", required=True)
    ap.add_argument("--model-ids", required=True, help="comma-separated, like RAG_MODEL")
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-minify", dest="minify", action="store_false",
                    help="copy tokenizer.json as is")
    args = ap.parse_args()
    args.model_ids = [m.strip() for m in args.model_ids.split(",") if m.strip()]
    if not args.model_ids:
        die("no model ids")

    files = entries(args, read_sums(args.dest))
    comment = inputs_comment(args, files)
    if up_to_date(args.out, comment):
        log(f"layer up to date ({args.out})")
        table = None
    else:
        log(f"writing {args.out} ...")
        table = write_zip(args, files, comment)

    with zipfile.ZipFile(args.out) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
    unzipped = sum(i.file_size for i in infos)
    zipped = os.path.getsize(args.out)
    if table:
        for arc, size, before, _sha in table:
            note = f"  (minified from {before / 1e6:.1f} MB)" if before else ""
            log(f"  {size / 1e6:8.1f} MB  {arc}{note}")
    else:
        for i in sorted(infos, key=lambda i: i.filename):
            log(f"  {i.file_size / 1e6:8.1f} MB  {i.filename}")
    room = LAMBDA_LIMIT - unzipped
    log(f"{os.path.basename(args.out)}: {len(infos)} files, unzipped {unzipped:,} bytes "
        f"({unzipped / 2**20:.1f} MiB), zip {zipped:,} bytes ({zipped / 2**20:.1f} MiB); "
        f"room left under Lambda's 250 MiB unzipped limit for the function and other layers: "
        f"{room / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
