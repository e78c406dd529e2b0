"""Train the danger model from the corpus (`ivr-line safety train`). Deterministic.

Needs scikit-learn (the `train` and `test` extras); only the CLI and the tests import this.
A logistic regression over the hashed features of `features` decides danger; its
threshold for each language is chosen from its own training data by inner
cross-validation, so that, together with the word lists, it keeps recall at `recall`. A small
multinomial naive Bayes over the same features tells which language a message is in,
so danger found by the model alone is answered in the words it came in.
"""
from __future__ import annotations

from pathlib import Path

from . import MODEL_FILE, features
from .corpus import Example, digest, fold_of, read
from .model import Model
from .words import WordLists

SETTINGS = {
    "features": features.VERSION,
    "buckets": 2 ** 18,        # danger weights: 1 MB of float32
    "lang_buckets": 2 ** 15,   # language weights: 128 KB a language
    "C": 10.0,                 # inverse regularisation of the logistic regression
    "recall": 0.97,            # per-language recall the thresholds are chosen for
    "inner_folds": 4,
    "alpha": 0.1,              # naive Bayes smoothing
    "max_threshold": 0.4,       # no language far stricter than the rest: its own texts may be too easy
    "min_threshold": 0.2,       # and none far looser: a near-coin-toss is not evidence of danger
}


def _matrix(rows: list[list[str]], buckets: int, normalise: bool):
    """Rows of features: weighted as the model reads them, or plain counts."""
    import numpy as np
    from scipy.sparse import csr_matrix
    indptr, indices, data = [0], [], []
    for words in rows:
        pairs = features.weighted(words) if normalise else [(h, 1.0) for h in features.language_hashes(words)]
        indices.extend(h & (buckets - 1) for h, _ in pairs)
        data.extend(v for _, v in pairs)
        indptr.append(len(indices))
    m = csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                    np.array(indptr, dtype=np.int64)), shape=(len(rows), buckets))
    m.sum_duplicates()
    return m


def _danger_weights(words: list[list[str]], labels: list[bool], settings: dict):
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression(C=settings["C"], solver="liblinear", class_weight="balanced",
                             max_iter=2000, random_state=0, tol=1e-6)
    clf.fit(_matrix(words, settings["buckets"], True), labels)
    return clf.coef_[0].astype("float32"), float(clf.intercept_[0])


def _language_weights(words: list[list[str]], langs: list[str], settings: dict):
    from sklearn.naive_bayes import MultinomialNB
    nb = MultinomialNB(alpha=settings["alpha"])
    nb.fit(_matrix(words, settings["lang_buckets"], False), langs)
    table = nb.feature_log_prob_.T.astype("float32").ravel()     # bucket-major
    return [str(c) for c in nb.classes_], table, [float(p) for p in nb.class_log_prior_]


def _bare(examples: list[Example], lists: WordLists, settings: dict, thresholds: dict[str, float]) -> Model:
    """A model fitted to `examples`, with given thresholds per language."""
    from array import array
    words = [lists.words(ex.text) for ex in examples]
    weights, bias = _danger_weights(words, [ex.danger for ex in examples], settings)
    langs, table, prior = _language_weights(words, [ex.lang for ex in examples], settings)
    header = {"features": features.VERSION, "buckets": settings["buckets"],
              "lang_buckets": settings["lang_buckets"], "bias": bias, "thresholds": thresholds,
              "languages": langs, "lang_prior": prior, "corpus_digest": ""}
    return Model(header, array("f", weights.tobytes()), array("f", table.tobytes()))


def choose_thresholds(examples: list[Example], lists: WordLists, settings: dict) -> dict[str, float]:
    """For each language, the highest threshold that, with the word lists, still catches
    `recall` of its danger texts, judged on folds the model did not learn from."""
    k = settings["inner_folds"]
    missed_by_words: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    for i in range(k):
        held = [ex for ex in examples if fold_of(ex, k) == i]
        model = _bare([ex for ex in examples if fold_of(ex, k) != i], lists, settings, {"en": 0.5})
        for ex in held:
            if not ex.danger:
                continue
            totals[ex.lang] = totals.get(ex.lang, 0) + 1
            if lists.which(ex.text) is None:
                missed_by_words.setdefault(ex.lang, []).append(model.score(lists.words(ex.text)))
    thresholds = {}
    for lang in sorted(totals):
        scores = sorted(missed_by_words.get(lang, []))
        allowed = int((1 - settings["recall"]) * totals[lang])
        best = scores[allowed] * 0.999 if allowed < len(scores) else settings["max_threshold"]
        thresholds[lang] = round(max(settings["min_threshold"], min(settings["max_threshold"], best)), 6)
    return thresholds


def fit(examples: list[Example], lists: WordLists, settings: dict = SETTINGS) -> Model:
    """The model for these examples: weights from all of them, thresholds from inner folds."""
    return _bare(examples, lists, settings, choose_thresholds(examples, lists, settings))


def train(emergency_dir: Path, out: Path | None = None, settings: dict = SETTINGS) -> Model:
    """Train on the corpus's training files and write the model file next to the word lists."""
    emergency_dir = Path(emergency_dir)
    examples = read(emergency_dir, "train")
    if not examples:
        raise ValueError(f"{emergency_dir}/corpus: no training texts")
    lists = WordLists.load(emergency_dir)
    model = fit(examples, lists, settings)
    model.header["corpus_digest"] = digest(emergency_dir, settings)
    model.header["examples"] = len(examples)
    (out or emergency_dir / MODEL_FILE).write_bytes(model.dumps())
    return model


def is_stale(emergency_dir: Path, settings: dict = SETTINGS) -> str | None:
    """Why the shipped model does not match its corpus, or None when it does."""
    path = Path(emergency_dir) / MODEL_FILE
    if not path.exists():
        return f"{path} is missing: run `ivr-line safety train`"
    try:
        model = Model.load(path)
    except (ValueError, OSError) as exc:
        return str(exc)
    if model.corpus_digest != digest(emergency_dir, settings):
        return f"{path} is older than its corpus or settings: run `ivr-line safety train`"
    return None
