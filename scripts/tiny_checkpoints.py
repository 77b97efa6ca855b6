#!/usr/bin/env python3
"""Tiny random token-classification checkpoints, for ertag's interoperability tests.

    tiny_checkpoints.py make DIR
        One sub-directory per architecture (bert, bert-cased, distilbert, roberta, xlm-roberta),
        each a Hugging Face token-classification checkpoint of a few kB: config.json (five
        labels), model.safetensors and tokenizer.json (a tiny WordPiece, byte-level BPE or
        Unigram vocabulary). Weights are random but seeded. Also writes DIR/manifest.json: for
        each architecture, two sample sentences as the tokenizer encodes them (ids, offsets),
        the padded batch (ids, attention mask) and the model's logits for that batch.

    tiny_checkpoints.py logits DIR IDS_JSON
        Print the logits of the checkpoint in DIR for IDS_JSON (a list of id lists, all of one
        length) as JSON; the attention mask is all ones and token types are zeros.

    tiny_checkpoints.py check REQUEST_JSON
        For ertag's checkpoints: REQUEST_JSON is a file holding a list of
        {"dir": ..., "ids": [[...]], "mask": [[...]]}. Each directory is loaded with
        AutoModelForTokenClassification.from_pretrained; prints, as JSON, a list of
        {"dir", "missing", "unexpected", "mismatched", "labels", "logits"}.

Only torch, transformers and tokenizers are needed (see scripts/python-requirements.txt).
"""

import json
import os
import sys

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoModelForTokenClassification, PreTrainedTokenizerFast
from transformers import (
    BertConfig,
    DistilBertConfig,
    RobertaConfig,
    XLMRobertaConfig,
)

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = ["Angela Merkel visited Paris .", "The mayor spoke"]
WORDS = [
    "the", "mayor", "of", "lyon", "spoke", "angela", "merkel", "visited", "paris", "berlin",
    "news", "said", "on", "in", "a", "and", "to", "was", ".", ",",
]  # fmt: skip
SEED = 20240


def wordpiece(cased):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = []
    for w in WORDS:
        pieces.append(w)
        if cased and w.isalpha():
            pieces.append(w.capitalize())
    # Sub-word pieces and letters so that unseen words still split.
    pieces += ["##s", "##ed", "##er", "##el"]
    pieces += list("abcdefghijklmnopqrstuvwxyz")
    pieces += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    if cased:
        pieces += list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    vocab = {}
    for p in special + pieces:
        vocab.setdefault(p, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=not cased
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"])
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    special_ids = dict(pad=0, cls=vocab["[CLS]"], sep=vocab["[SEP]"])
    return tok, len(vocab), special_ids, {
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "cls_token": "[CLS]", "mask_token": "[MASK]",
    }  # fmt: skip


def byte_bpe():
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {}
    for p in special + sorted(alphabet):
        vocab.setdefault(p, len(vocab))
    merges = []
    # A few merges so that whole words come out as one token: "Ġt"+"he" and so on.
    for w in ["Ġthe", "Ġof", "Ġmayor", "ĠParis", "ĠLyon"]:
        cur = w[0]
        for c in w[1:]:
            merges.append((cur, c))
            cur += c
            vocab.setdefault(cur, len(vocab))
    tok = Tokenizer(models.BPE(vocab, merges, unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]), trim_offsets=True, add_prefix_space=True
    )
    tok.decoder = decoders.ByteLevel()
    return tok, len(vocab), dict(pad=1, cls=0, sep=2), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
    }  # fmt: skip


def unigram():
    special = ["<s>", "<pad>", "</s>", "<unk>"]
    pieces = [(p, 0.0) for p in special]
    seen = set(special)
    for i, w in enumerate(WORDS):
        for p in ["▁" + w, "▁" + w.capitalize()]:
            if p not in seen:
                seen.add(p)
                pieces.append((p, -2.0 - 0.01 * i))
    for c in "▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,":
        if c not in seen:
            seen.add(c)
            pieces.append((c, -8.0))
    pieces.append(("<mask>", 0.0))
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(" {2,}", " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return tok, len(pieces), dict(pad=1, cls=0, sep=2), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
    }  # fmt: skip


def tiny_config(arch, vocab_size, pad):
    labels = dict(id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    common = dict(vocab_size=vocab_size, pad_token_id=pad, **labels)
    bertish = dict(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=64, hidden_act="gelu", **common,
    )  # fmt: skip
    if arch in ("bert", "bert-cased"):
        return BertConfig(type_vocab_size=2, **bertish)
    if arch == "distilbert":
        return DistilBertConfig(
            dim=16, n_layers=2, n_heads=2, hidden_dim=32, max_position_embeddings=64, **common
        )
    # RoBERTa and XLM-R checkpoints (roberta-base, xlm-roberta-base) use layer_norm_eps 1e-5,
    # not the config class's default of 1e-12; rust-bert's layers always use 1e-12.
    roberta = dict(type_vocab_size=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)
    if arch == "roberta":
        return RobertaConfig(**roberta, **bertish)
    if arch == "xlm-roberta":
        return XLMRobertaConfig(**roberta, **bertish)
    raise ValueError(arch)


ARCHS = {
    "bert": lambda: wordpiece(cased=False),
    "bert-cased": lambda: wordpiece(cased=True),
    "distilbert": lambda: wordpiece(cased=False),
    "roberta": byte_bpe,
    "xlm-roberta": unigram,
}


def randomise(model, seed):
    """Random weights larger than the initialiser's (std 0.02), so that the layers do
    something measurable: LayerNorm gains and biases, embeddings and the head included."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "LayerNorm" in name or "layer_norm" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))


def logits_of(model, ids, mask):
    ids = torch.tensor(ids, dtype=torch.long)
    mask = torch.tensor(mask, dtype=torch.long)
    kwargs = dict(input_ids=ids, attention_mask=mask)
    if model.config.model_type not in ("distilbert",):
        kwargs["token_type_ids"] = torch.zeros_like(ids)
    with torch.no_grad():
        return model(**kwargs).logits.tolist()


def make(out):
    os.makedirs(out, exist_ok=True)
    manifest = {}
    for i, (arch, build) in enumerate(ARCHS.items()):
        d = os.path.join(out, arch)
        tok, vocab_size, special, special_tokens = build()
        torch.manual_seed(SEED + i)
        config = tiny_config(arch, vocab_size, special["pad"])
        model = AutoModelForTokenClassification.from_config(config).eval()
        randomise(model, SEED + i)
        model.save_pretrained(d, safe_serialization=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        # Through transformers too, as a user of the checkpoint would encode.
        fast = PreTrainedTokenizerFast(tokenizer_file=os.path.join(d, "tokenizer.json"),
                                       **special_tokens)  # fmt: skip
        encodings = []
        for s in SENTENCES:
            e = fast(s, return_offsets_mapping=True)
            encodings.append({"text": s, "ids": e["input_ids"],
                              "offsets": [list(o) for o in e["offset_mapping"]]})  # fmt: skip
        batch = fast(SENTENCES, padding=True)
        manifest[arch] = {
            "dir": arch,
            "model_type": config.model_type,
            "labels": LABELS,
            "special": special,
            "vocab_size": vocab_size,
            "encodings": encodings,
            "ids": batch["input_ids"],
            "mask": batch["attention_mask"],
            "logits": logits_of(model, batch["input_ids"], batch["attention_mask"]),
        }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def load(d):
    model, info = AutoModelForTokenClassification.from_pretrained(
        d, output_loading_info=True
    )
    return model.eval(), info


def check(request):
    with open(request) as f:
        items = json.load(f)
    out = []
    for item in items:
        model, info = load(item["dir"])
        out.append({
            "dir": item["dir"],
            "missing": sorted(info["missing_keys"]),
            "unexpected": sorted(info["unexpected_keys"]),
            "mismatched": [k for k, *_ in info.get("mismatched_keys", [])],
            "labels": [model.config.id2label[i] for i in range(model.config.num_labels)],
            "dtype": str(model.dtype),
            "logits": logits_of(model, item["ids"], item["mask"]),
        })  # fmt: skip
    json.dump(out, sys.stdout)


def main(argv):
    if len(argv) == 2 and argv[0] == "make":
        make(argv[1])
    elif len(argv) == 3 and argv[0] == "logits":
        ids = json.loads(argv[2]) if argv[2].lstrip().startswith("[") else json.load(open(argv[2]))
        model, _ = load(argv[1])
        json.dump(logits_of(model, ids, [[1] * len(r) for r in ids]), sys.stdout)
    elif len(argv) == 2 and argv[0] == "check":
        check(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
