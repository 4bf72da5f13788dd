"""Learned heads for the ``learned`` evaluator: features, weights and their loader.

Serving needs numpy only; ``scripts/train_scorer.py`` (``make train-scorer``) builds
``weights.npz`` and ``vocab.txt`` from the calibration half of the labelled data.
"""
