#!/usr/bin/env python3
"""Check DEST/use-m3 (output of use_to_onnx.py) against the original USE-m3 graph.

    python use_verify.py ORIGINAL.onnx USE_DIR [--corpus FILE ...] [--threads 2]

Manual tool, not run by build.sh: it needs `onnxruntime-extensions==0.15.2` (PyPI) in addition
to the converter's packages, to run the original graph with its SentencepieceTokenizer op.

1. token ids: tokenizer.json (with special tokens) vs the op itself (a one-node graph made from
   the original's SentencepieceTokenizer node, same attributes) on 50 FR/EN sentences, edge
   cases and every non-empty line of the --corpus files;
2. embeddings: model.onnx + tokenizer.json on plain onnxruntime vs the original graph with the
   extensions library, one sentence per run and as one batch of 50: cosine;
3. EN/FR translation pairs vs unrelated pairs;
4. speed with N threads: batch of 32 chunks of ~100 tokens, one short query.
"""
import argparse
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, TensorProto
from tokenizers import Tokenizer

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from use_to_onnx import CHECK_SENTENCES  # noqa: E402

# 25 EN/FR pairs (i, i+25 are translations)
EN = [
    "My printer stopped printing after the Windows 11 update.",
    "How do I reset my Active Directory password?",
    "The VPN (GlobalProtect v6.2.1) disconnects every 5 minutes.",
    "See https://intranet.example.com/support/ticket?id=4521&lang=en for the ticket status.",
    "Blue screen \"IRQL_NOT_LESS_OR_EQUAL\" at startup, error code 0x0000000A.",
    "Outlook keeps asking for my credentials since this morning.",
    "The shared drive \\\\srv-files01\\compta is no longer accessible.",
    "I can't connect to the Wi-Fi network \"Corp-5G\" on floor 3.",
    "My laptop battery drains in less than 2 hours.",
    "How can I install Microsoft Teams on my personal phone?",
    "The projector in meeting room B-204 shows no signal.",
    "Please unlock my account, I entered a wrong password three times.",
    "The invoice PDF (450 KB) won't open in Acrobat Reader 2024.",
    "Email to john.smith@example.org bounced with error 550 5.1.1.",
    "Update the antivirus signatures before 6:30 pm on Friday.",
    "The ERP application is very slow: 45 seconds to open an order.",
    "Backups of the SQL Server database failed last night at 02:15.",
    "Can you give me administrator rights to install Python 3.12?",
    "My second monitor flickers when connected through the USB-C dock.",
    "Multi-factor authentication codes arrive late by SMS.",
    "The keyboard types wrong characters: \"a\" gives \"q\".",
    "Disk C: is 98% full, 1.2 GB free out of 256 GB.",
    "I received a suspicious email asking me to confirm my bank details.",
    "The new employee starts on Monday 3 March and needs a laptop.",
    "Restart the print spooler service, then clear the queue.",
]
FR = [
    "Mon imprimante n'imprime plus depuis la mise à jour de Windows 11.",
    "Comment réinitialiser mon mot de passe Active Directory ?",
    "Le VPN (GlobalProtect v6.2.1) se déconnecte toutes les 5 minutes.",
    "Voir https://intranet.exemple.fr/support/ticket?id=4521&lang=fr pour l'état du ticket.",
    "Écran bleu « IRQL_NOT_LESS_OR_EQUAL » au démarrage, code d'erreur 0x0000000A.",
    "Outlook me redemande mes identifiants depuis ce matin.",
    "Le lecteur partagé \\\\srv-files01\\compta n'est plus accessible.",
    "Je n'arrive pas à me connecter au réseau Wi-Fi « Corp-5G » au 3ᵉ étage.",
    "La batterie de mon ordinateur portable se vide en moins de 2 heures.",
    "Comment installer Microsoft Teams sur mon téléphone personnel ?",
    "Le vidéoprojecteur de la salle de réunion B-204 n'affiche aucun signal.",
    "Merci de débloquer mon compte, j'ai saisi trois fois un mauvais mot de passe.",
    "La facture PDF (450 Ko) ne s'ouvre pas dans Acrobat Reader 2024.",
    "Le courriel à jean.dupont@exemple.fr est revenu avec l'erreur 550 5.1.1.",
    "Mettez à jour les signatures de l'antivirus avant 18 h 30 vendredi.",
    "L'application ERP est très lente : 45 secondes pour ouvrir une commande.",
    "Les sauvegardes de la base SQL Server ont échoué cette nuit à 02:15.",
    "Pouvez-vous me donner les droits d'administrateur pour installer Python 3.12 ?",
    "Mon deuxième écran clignote quand il est branché sur la station d'accueil USB-C.",
    "Les codes d'authentification multifacteur arrivent en retard par SMS.",
    "Le clavier tape de mauvais caractères : « a » donne « q ».",
    "Le disque C: est plein à 98 %, 1,2 Go libres sur 256 Go.",
    "J'ai reçu un courriel suspect me demandant de confirmer mes coordonnées bancaires.",
    "Le nouvel employé arrive le lundi 3 mars et a besoin d'un ordinateur portable.",
    "Redémarrez le service spouleur d'impression, puis videz la file d'attente.",
]
SENTENCES = EN + FR


def tokenizer_only_model(orig):
    """A graph with only the original SentencepieceTokenizer node (same inputs and attributes)."""
    g = orig.graph
    tok = [n for n in g.node if n.op_type == "SentencepieceTokenizer"][0]
    inits = [t for t in g.initializer if t.name in tok.input]
    graph = helper.make_graph(
        [tok], "sp_only", [g.input[0]],
        [helper.make_tensor_value_info(tok.output[0], TensorProto.INT32, None),
         helper.make_tensor_value_info(tok.output[1], TensorProto.INT64, None)],
        inits)
    return helper.make_model(graph, opset_imports=list(orig.opset_import), ir_version=orig.ir_version)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("original")
    ap.add_argument("use_dir")
    ap.add_argument("--corpus", nargs="*", default=[])
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    from onnxruntime_extensions import get_library_path

    def opts(ext):
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        if ext:
            so.register_custom_ops_library(get_library_path())
        return so

    orig = onnx.load(a.original)
    op_sess = ort.InferenceSession(tokenizer_only_model(orig).SerializeToString(), opts(True),
                                   providers=["CPUExecutionProvider"])
    full = ort.InferenceSession(a.original, opts(True), providers=["CPUExecutionProvider"])
    cut = ort.InferenceSession(a.use_dir + "/model.onnx", opts(False), providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(a.use_dir + "/tokenizer.json")
    print("cut model inputs:", [(i.name, i.type, i.shape) for i in cut.get_inputs()],
          "outputs:", [(o.name, o.type, o.shape) for o in cut.get_outputs()])

    def run_cut(texts, sess=cut):
        enc = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
        n = max(map(len, enc))
        ids = np.zeros((len(enc), n), np.int64)
        mask = np.zeros((len(enc), n), np.int64)
        for i, e in enumerate(enc):
            ids[i, :len(e)] = e
            mask[i, :len(e)] = 1
        return sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def run_full(texts):
        return full.run(None, {"inputs": np.array(texts, dtype=object)})[0]

    # 1. token ids ---------------------------------------------------------------------------
    def op_ids(texts):
        t, s = op_sess.run(None, {"inputs": np.array(texts, dtype=object)})
        return [t[s[i]:s[i + 1]].tolist() for i in range(len(texts))]

    corpus = []
    for path in a.corpus:
        with open(path, encoding="utf-8", errors="replace") as f:
            corpus += [line.rstrip("\n") for line in f if line.strip()]
    for name, texts in [("50 FR/EN sentences", SENTENCES), ("edge cases", CHECK_SENTENCES),
                        ("corpus lines", corpus)]:
        if not texts:
            continue
        want = []
        for i in range(0, len(texts), 256):
            want += op_ids(texts[i:i + 256])
        got = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
        bad = [(t, w, g) for t, w, g in zip(texts, want, got) if w != g]
        ntok = sum(map(len, want))
        print(f"1. token ids, {name}: {len(texts) - len(bad)}/{len(texts)} identical ({ntok} tokens)")
        for t, w, g in bad[:5]:
            i = next((i for i, (x, y) in enumerate(zip(w, g)) if x != y), min(len(w), len(g)))
            print(f"   MISMATCH at token {i} of {t[:60]!r}...\n     op  ...{w[max(0, i - 3):i + 5]}"
                  f"\n     hf  ...{g[max(0, i - 3):i + 5]} {tok.encode(t).tokens[max(0, i - 3):i + 5]}")
        if bad:
            cos = []
            for t, _, _ in bad:
                x, y = run_full([t])[0], run_cut([t])[0]
                cos.append(float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)))
            print(f"   embedding cosine cut vs original on these lines: {', '.join('%.5f' % c for c in cos)}")

    # 2. embeddings --------------------------------------------------------------------------
    one_full = np.concatenate([run_full([t]) for t in SENTENCES])
    one_cut = np.concatenate([run_cut([t]) for t in SENTENCES])
    b_full, b_cut = run_full(SENTENCES), run_cut(SENTENCES)
    c1 = np.sum(one_full * one_cut, 1) / np.linalg.norm(one_full, axis=1) / np.linalg.norm(one_cut, axis=1)
    c2 = np.sum(b_full * b_cut, 1) / np.linalg.norm(b_full, axis=1) / np.linalg.norm(b_cut, axis=1)
    c3 = np.sum(one_full * b_full, 1)
    print(f"2. cosine cut vs original, one sentence per run: min {c1.min():.7f} mean {c1.mean():.7f}; "
          f"max abs diff {np.abs(one_full - one_cut).max():.2e}")
    print(f"   cosine cut vs original, batch of 50:          min {c2.min():.7f} mean {c2.mean():.7f}; "
          f"max abs diff {np.abs(b_full - b_cut).max():.2e}")
    print(f"   (original alone, batch of 50 vs one per run:  min {c3.min():.5f} mean {c3.mean():.5f}: "
          "activations are quantised per run)")
    print(f"   norms of the cut model's output: {np.linalg.norm(b_cut, axis=1).min():.6f}"
          f"-{np.linalg.norm(b_cut, axis=1).max():.6f}")
    # left padding and a padding value other than 0 give the same result
    enc = [e.ids for e in tok.encode_batch(SENTENCES[:4])]
    n = max(map(len, enc))
    ids = np.full((4, n), 7, np.int64)
    mask = np.zeros((4, n), np.int64)
    for i, e in enumerate(enc):
        ids[i, n - len(e):] = e
        mask[i, n - len(e):] = 1
    left = cut.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    print(f"   left padding with pad id 7 vs right padding: max abs diff "
          f"{np.abs(left - run_cut(SENTENCES[:4])).max():.2e}")

    # 3. quality -----------------------------------------------------------------------------
    e = one_cut
    sim = e[:25] @ e[25:].T
    diag = np.diag(sim)
    off = sim[~np.eye(25, dtype=bool)]
    top1 = int(np.sum(np.argmax(sim, axis=1) == np.arange(25)))
    print(f"3. EN->FR translation pairs: cosine mean {diag.mean():.3f} min {diag.min():.3f}; "
          f"unrelated EN/FR pairs mean {off.mean():.3f} max {off.max():.3f}; right FR ranked first {top1}/25")
    for i in (0, 1, 4, 21):
        j = (i + 7) % 25
        print(f"   {sim[i, i]:.3f}  {EN[i][:50]!r} ~ {FR[i][:50]!r}")
        print(f"   {sim[i, j]:.3f}  {EN[i][:50]!r} ~ {FR[j][:50]!r} (unrelated)")

    # 4. speed -------------------------------------------------------------------------------
    rng = np.random.default_rng(0)
    words = " ".join(SENTENCES + corpus[:2000]).split()
    chunks = []
    while len(chunks) < 32:
        k = int(rng.integers(0, len(words) - 120))
        text, n = [], 0
        while True:
            text.append(words[k])
            k += 1
            if len(tok.encode(" ".join(text)).ids) >= 100:
                break
        chunks.append(" ".join(text))
    lens = [len(tok.encode(c).ids) for c in chunks]

    def bench(f, reps):
        f()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return np.median(ts), min(ts)

    q = "imprimante bloquée"
    del op_sess
    for name, fb, fq in [("cut model (plain ORT)", lambda: run_cut(chunks), lambda: run_cut([q])),
                         ("original (+extensions)", lambda: run_full(chunks), lambda: run_full([q]))]:
        tb, tbmin = bench(fb, 20)
        tq, tqmin = bench(fq, 200)
        print(f"4. {name}, {a.threads} threads: batch of 32 chunks ({np.mean(lens):.0f} tokens avg) "
              f"{tb * 1e3:.1f} ms median ({32 / tb:.0f} chunks/s, best {32 / tbmin:.0f}/s); "
              f"one query ({len(tok.encode(q).ids)} tokens) {tq * 1e3:.2f} ms median (best {tqmin * 1e3:.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
