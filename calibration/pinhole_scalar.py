"""OpenCV's pinhole distortion of one point in plain scalar arithmetic, for compiled kernels.

The compiled paths jit :func:`distort_point` with their own numba options
(:mod:`calibration._bundle_kernel`, :mod:`triangulate._kernels`); the vectorized reference
that tests hold them to is :func:`calibration.projection.distort_normalized`.
"""

from __future__ import annotations

__all__ = ["distort_point"]


def distort_point(x, y, k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4):
    """Distorted normalized coordinates of ``(x, y)`` and their Jacobian.

    Parameters
    ----------
    x, y : float
        Ideal normalized coordinates ``(X/Z, Y/Z)``.
    k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4 : float
        OpenCV's coefficients without the tilt (radial, tangential, rational, thin prism).

    Returns
    -------
    xd, yd, j00, j01, j10, j11 : float
        Distorted coordinates and ``d (xd, yd) / d (x, y)`` row by row.
    """
    r2 = x * x + y * y
    num = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    den = 1 + r2 * (k4 + r2 * (k5 + r2 * k6))
    rad = num / den
    xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) + r2 * (s1 + s2 * r2)
    yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y + r2 * (s3 + s4 * r2)
    dnum = k1 + r2 * (2 * k2 + 3 * k3 * r2)
    dden = k4 + r2 * (2 * k5 + 3 * k6 * r2)
    drad = (dnum * den - num * dden) / (den * den)
    px = s1 + 2 * s2 * r2
    py = s3 + 2 * s4 * r2
    j00 = rad + 2 * x * x * drad + 2 * p1 * y + 6 * p2 * x + 2 * x * px
    j01 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * y * px
    j10 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * x * py
    j11 = rad + 2 * y * y * drad + 6 * p1 * y + 2 * p2 * x + 2 * y * py
    return xd, yd, j00, j01, j10, j11
