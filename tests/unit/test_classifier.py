"""The intent classifier's vectorised scorer gives sklearn's calibrated probabilities."""

import numpy as np
import pytest
from scipy.sparse import random as sparse_random
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

from bot.nlu.classifier import CalibratedLinearScorer


def fitted(n_classes: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    X = sparse_random(60 * n_classes, 300, density=0.05, format="csr", random_state=seed)
    y = np.array([f"intent_{i % n_classes}" for i in range(X.shape[0])])
    X = X + sparse_random(X.shape[0], 300, density=0.01, format="csr", random_state=seed + 1)
    clf = CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced", max_iter=5000, random_state=1), cv=3, method="sigmoid"
    ).fit(X, y)
    probe = sparse_random(25, 300, density=0.05, format="csr", random_state=int(rng.integers(100)))
    return clf, probe


@pytest.mark.parametrize("n_classes", [2, 3, 23])
def test_scorer_matches_sklearn_also_after_saving(n_classes, tmp_path):
    clf, probe = fitted(n_classes)
    scorer = CalibratedLinearScorer.from_sklearn(clf)
    assert list(scorer.classes_) == list(clf.classes_)
    np.testing.assert_allclose(scorer.predict_proba(probe), clf.predict_proba(probe), rtol=1e-9, atol=1e-12)
    scorer.save(tmp_path / "scorer.npz")
    loaded = CalibratedLinearScorer.load(tmp_path / "scorer.npz")
    np.testing.assert_array_equal(loaded.predict_proba(probe), scorer.predict_proba(probe))


def test_scorer_handles_an_empty_message():
    clf, probe = fitted(5)
    empty = probe[:1] * 0
    np.testing.assert_allclose(CalibratedLinearScorer.from_sklearn(clf).predict_proba(empty), clf.predict_proba(empty))


def test_feature_matrix_is_rasas():
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message
    from scipy.sparse import coo_matrix

    from bot.nlu.classifier import LinearSVMIntentClassifier

    messages = []
    for seed in range(4):
        message = Message(data={TEXT: f"text {seed}"})
        for origin, width in (("words", 40), ("chars", 60)):
            sentence = sparse_random(1, width, density=0.2, format="coo", random_state=seed)
            sequence = sparse_random(3, width, density=0.2, format="coo", random_state=seed)
            message.add_features(Features(coo_matrix(sentence), FEATURE_TYPE_SENTENCE, TEXT, origin))
            message.add_features(Features(coo_matrix(sequence), FEATURE_TYPE_SEQUENCE, TEXT, origin))
        messages.append(message)
    ours = LinearSVMIntentClassifier._create_X(object.__new__(LinearSVMIntentClassifier), messages)
    rasas = LogisticRegressionClassifier._create_X(object.__new__(LogisticRegressionClassifier), messages)
    assert ours.shape == rasas.shape == (4, 100)
    np.testing.assert_array_equal(ours.toarray(), rasas.toarray())
