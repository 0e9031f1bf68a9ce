"""Make model.int8.onnx from model.onnx (dynamic int8 quantisation) and check it.

usage: python quantize_int8.py MODEL_DIR [--weight-type qint8|quint8] [--per-channel]
                               [--no-bench] [--threads N]

* Quantises MODEL_DIR/model.onnx with onnxruntime.quantization.quantize_dynamic into
  MODEL_DIR/model.int8.onnx. Only the MatMul weights of the linear layers are quantised
  (MatMulInteger + DynamicQuantizeLinear on activations); the Gather tables (4-bit word
  embeddings and their scales, position and token-type embeddings) are left untouched, since
  quantising them saves ~3 MB and only costs accuracy. The attention MatMuls have no constant
  weight and stay fp32.
* Quality check: cosine between fp32 and int8 embeddings of 20 French and English IT-support
  sentences ("passage: " prefix, mean pooling over the attention mask, L2 normalisation).
  Prints mean/min and warns (does not fail) when the mean is below 0.98.
* Speed check (skip with --no-bench): batch of 32 passages truncated to 100 tokens, N threads
  (default 2), best of 3 timed runs after one warm-up, fp32 vs int8; prints the ratio.

Needs numpy, onnx, tokenizers and onnxruntime (the same 1.31.1 whose libonnxruntime.so the
Rust code loads). Progress goes to stderr; the one-line summary goes to stdout.
"""
import argparse
import os
import sys
import time

import numpy as np

SENTENCES = [
    # English
    "How do I reset my Windows password when I am locked out?",
    "The VPN client disconnects every few minutes when I work from home.",
    "Outlook keeps asking for my credentials after the latest update.",
    "My laptop does not detect the second monitor through the docking station.",
    "To map a network drive, open File Explorer and choose 'Map network drive'.",
    "Printers on the third floor are offline since this morning.",
    "Multi-factor authentication codes are not arriving on my phone.",
    "Clear the browser cache and cookies, then sign in to the intranet again.",
    "The shared mailbox does not appear in my folder list.",
    "Request a new software licence through the IT self-service portal.",
    # French
    "Comment réinitialiser mon mot de passe Windows si mon compte est verrouillé ?",
    "Le client VPN se déconnecte toutes les cinq minutes en télétravail.",
    "Outlook me redemande sans cesse mes identifiants depuis la mise à jour.",
    "Mon ordinateur portable ne détecte pas le deuxième écran via la station d'accueil.",
    "Pour connecter un lecteur réseau, ouvrez l'Explorateur de fichiers puis « Connecter un lecteur réseau ».",
    "Les imprimantes du troisième étage sont hors ligne depuis ce matin.",
    "Je ne reçois plus les codes d'authentification à deux facteurs sur mon téléphone.",
    "Videz le cache et les cookies du navigateur, puis reconnectez-vous à l'intranet.",
    "La boîte aux lettres partagée n'apparaît pas dans la liste de mes dossiers.",
    "Demandez une nouvelle licence logicielle via le portail libre-service de la DSI.",
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def quantize(src, dst, weight_type, per_channel):
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # silence the "consider pre-processing" hint
    tmp = dst + ".tmp"
    quantize_dynamic(src, tmp, weight_type={"qint8": QuantType.QInt8, "quint8": QuantType.QUInt8}[weight_type],
                     per_channel=per_channel, op_types_to_quantize=["MatMul"])
    os.replace(tmp, dst)


def session(path, threads):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def encode(tok, texts):
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], np.int64)
    mask = np.array([e.attention_mask for e in enc], np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def embed(sess, feeds):
    hidden = sess.run(["last_hidden_state"], feeds)[0]
    m = feeds["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def bench(sess, feeds, runs=3):
    sess.run(None, feeds)  # warm-up
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("--weight-type", choices=["qint8", "quint8"], default="qint8")
    ap.add_argument("--per-channel", action="store_true")
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="model.int8.onnx", help="output file name inside MODEL_DIR")
    a = ap.parse_args()

    from tokenizers import Tokenizer

    src = os.path.join(a.model_dir, "model.onnx")
    dst = os.path.join(a.model_dir, a.out)
    t0 = time.perf_counter()
    quantize(src, dst, a.weight_type, a.per_channel)
    log(f"  quantised ({a.weight_type}{', per-channel' if a.per_channel else ''}) in "
        f"{time.perf_counter() - t0:.1f}s: {os.path.getsize(dst) / 1e6:.1f} MB")

    tok = Tokenizer.from_file(os.path.join(a.model_dir, "tokenizer.json"))
    s32, s8 = session(src, a.threads), session(dst, a.threads)

    feeds = encode(tok, ["passage: " + s for s in SENTENCES])
    cos = (embed(s32, feeds) * embed(s8, feeds)).sum(1)
    en, fr = cos[:10].mean(), cos[10:].mean()
    summary = f"int8 vs fp32 cosine: mean {cos.mean():.4f} min {cos.min():.4f} (EN {en:.4f}, FR {fr:.4f})"
    if cos.mean() < 0.98:
        log(f"  WARNING: int8 quality below target (mean cosine {cos.mean():.4f} < 0.98)")

    if not a.no_bench:
        tok.enable_truncation(100)
        passages = [" ".join(SENTENCES[(i + j) % len(SENTENCES)] for j in range(8)) for i in range(32)]
        feeds = encode(tok, ["passage: " + p for p in passages])
        log(f"  timing batch {feeds['input_ids'].shape[0]}x{feeds['input_ids'].shape[1]} tokens, "
            f"{a.threads} threads ...")
        t32, t8 = bench(s32, feeds), bench(s8, feeds)
        summary += (f"; batch 32x100 on {a.threads} threads: fp32 {t32:.2f}s ({32 / t32:.1f}/s), "
                    f"int8 {t8:.2f}s ({32 / t8:.1f}/s), int8 speed-up x{t32 / t8:.2f}")
        if t8 >= t32:
            log("  WARNING: int8 is not faster than fp32 on this machine")
    print(summary, flush=True)


if __name__ == "__main__":
    main()
