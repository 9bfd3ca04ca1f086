"""Synthetic letter montages, the online-NMF data of paper §4.4.2 (Figures 5-7).

A 40 x 40 image is split into four 20 x 20 quadrants, the *positions*, numbered row-major:
0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right. At every position an image holds one of the
letters w, x, y, z in one of two fonts, plain or slanted, drawn independently and uniformly, or, with
probability ``p_blank`` (default 0.05), nothing. Letters are drawn by the package itself from straight
strokes (no fonts, no downloads): anti-aliased lines about 2 pixels wide, the strokes of one letter
combined by their maximum; the slanted font is the plain one sheared so that its top leans right.
Every letter keeps a blank border of at least one pixel inside its quadrant, so the parts of different
positions never overlap: an image is exactly the sum of its parts (X = codes @ parts with 0/1 codes).

Averaging the two fonts of every letter/position gives the 16 "weakly slanted" templates that a
successful rank-16 NMF recovers (Fig 5 right); see :func:`letter_position_templates` and
:func:`match_letter_features`. Why blanks: the paper does not say whether every position is filled.
With every position always filled, the four letter codes of a position always sum to 1, the strokes
that all letters share can be carried by mixed features present in every image, and such mixed
factorisations fit better than the letter templates: scikit-learn's coordinate descent (rank 16,
random starts) then found none of the 16 letters in 5 runs. With 5% blanks the same runs found all 16
in 2 of 5 (recon_err 0.089) and 13-14 in the others, like the paper's successes and near-misses.
``p_blank=0`` gives the always-filled variant. The shear (0.21 of the letter height) is set so that
the template factorisation has recon_err (eq 23) about 0.089, the paper's value for a successful run.
"""
import numbers

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils import check_array, check_scalar

from .._validation import check_random_state

LETTERS = "wxyz"
IMAGE_SHAPE = (40, 40)

_QUADRANT = 20
_GLYPH = 11.0    # side of a letter's box, pixels
_SLANT = 0.21    # shear of the slanted font: its top sits _SLANT * _GLYPH right of its bottom
_RADIUS = 1.0    # stroke half-width: intensity 1 up to _RADIUS - 0.5 from a stroke, 0 beyond + 0.5

# Polylines of each letter in its unit box (u to the right, v downwards).
_STROKES = {
    "w": [[(0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1, 0)]],
    "x": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "y": [[(1, 0), (0.25, 1)], [(0, 0), (0.55, 0.6)]],
    "z": [[(0, 0), (1, 0), (0, 1), (1, 1)]],
}


def _glyph(letter, slant):
    """One letter rendered in a 20 x 20 quadrant, centred, with the given shear; values in [0, 1]."""
    centres = np.arange(_QUADRANT) + 0.5
    px, py = np.meshgrid(centres, centres)  # px: column (x) and py: row (y) of each pixel centre
    img = np.zeros((_QUADRANT, _QUADRANT))
    c = _QUADRANT / 2
    for line in _STROKES[letter]:
        pts = np.array(line, dtype=np.float64)
        x = c + _GLYPH * (pts[:, 0] - 0.5) + slant * _GLYPH * (0.5 - pts[:, 1])
        y = c + _GLYPH * (pts[:, 1] - 0.5)
        for x0, y0, x1, y1 in zip(x[:-1], y[:-1], x[1:], y[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
            dist = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
            img = np.maximum(img, np.clip(_RADIUS + 0.5 - dist, 0.0, 1.0))
    return img


def _parts():
    parts = np.zeros((4, 4, 2) + IMAGE_SHAPE)
    for li, letter in enumerate(LETTERS):
        for fi, slant in enumerate((0.0, _SLANT)):
            g = _glyph(letter, slant)
            for pos in range(4):
                r, c = _QUADRANT * (pos // 2), _QUADRANT * (pos % 2)
                parts[pos, li, fi, r:r + _QUADRANT, c:c + _QUADRANT] = g
    return parts.reshape(32, IMAGE_SHAPE[0] * IMAGE_SHAPE[1])


def letter_montages(n_samples=2000, random_state=None, return_parts=False, p_blank=0.05):
    """The letter-montage images of §4.4.2: ``X`` of shape ``(n_samples, 1600)``, values in [0, 1].

    Rows are 40 x 40 images flattened row-major; each position is left blank with probability
    ``p_blank``. With ``return_parts=True`` returns ``(X, parts, index)``: ``parts`` (32, 1600) holds
    part ``8 * position + 2 * letter + font`` (letter 0..3 = w, x, y, z; font 0 = plain, 1 = slanted);
    ``index`` (n_samples, 4) int is the part at each position (``index[:, p]`` in ``8p .. 8p + 7``,
    or -1 for a blank), so that ``X[k] == parts[index[k][index[k] >= 0]].sum(axis=0)`` exactly.
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    check_scalar(p_blank, "p_blank", numbers.Real, min_val=0, max_val=1, include_boundaries="left")
    rng = check_random_state(random_state)
    parts = _parts()
    index = rng.integers(0, 8, size=(n_samples, 4)) + 8 * np.arange(4)
    index[rng.random((n_samples, 4)) < p_blank] = -1
    X = np.zeros((n_samples, parts.shape[1]))
    for p in range(4):
        filled = index[:, p] >= 0
        X[filled] += parts[index[filled, p]]
    return (X, parts, index) if return_parts else X


def letter_position_templates():
    """The 16 letter/position templates (16, 1600): the mean of the plain and slanted part.

    Template ``4 * position + letter``. These are the "weakly slanted" features of a successful
    rank-16 NMF of the montages (Fig 5 right); check a factorisation with
    :func:`match_letter_features`.
    """
    return _parts().reshape(16, 2, -1).mean(axis=1)


def match_letter_features(components):
    """Match NMF features to the 16 letter/position templates, one to one.

    ``components`` is (n_features, 1600), one feature per row (any non-negative scale). Returns
    ``(similarity, assignment)``, both of length 16 in template order: the cosine similarity of each
    template to the feature assigned to it, and that feature's row (-1 and similarity 0 when there are
    fewer than 16 features). The assignment maximises the total similarity (Hungarian algorithm).
    A factorisation that found every letter/position has all similarities close to 1 (above about
    0.9); a missing one shows as a low similarity where the paper reports a duplicate in the other font.
    """
    W = check_array(components, dtype=np.float64, input_name="components")
    if W.shape[1] != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        raise ValueError(f"components must have 1600 columns (40 x 40 images); got {W.shape[1]}")
    T = letter_position_templates()
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    cos = T @ (W / np.where(norms > 0, norms, 1.0)).T
    rows, cols = linear_sum_assignment(cos, maximize=True)
    similarity = np.zeros(16)
    assignment = np.full(16, -1, dtype=np.int64)
    similarity[rows] = cos[rows, cols]
    assignment[rows] = cols
    return similarity, assignment
