"""Normal forms of an affine region, one per family, carried from the region's source:

* ``ConvForm`` (``conv``): ``y = conv(x, W, b)`` with stride, dilation, pads, groups,
  over the source's spatial axes (an identity is a 1x1 depthwise conv of ones);
* ``ConvTransposeForm`` (``conv_transpose``): one ConvTranspose, absorbing what follows
  it per channel;
* ``DenseForm`` (``dense``): ``y = x·W + b`` on the last axis (Gemm / MatMul).

Every method computes the form's *shape* (kernel, channels, pads, offset) and,
when the form carries weights (``W is not None``), the weights too, in float64.
``check`` runs the shape half only; ``fold`` runs both — so the exactness
decision and the rewrite cannot disagree. Anything that would not be exact
raises ``NotFoldable`` with the sentence the user sees. A method returns a new
form; forms are frozen records, never changed once built.

Each form names the ops its fold writes (``emitted_ops``), which the cost figures
count and the rewrite checks. ``kernels`` holds the window arithmetic they share.
"""

from linlint.analysis.forms.affine import NotFoldable
from linlint.analysis.forms.conv import ConvForm
from linlint.analysis.forms.conv_transpose import ConvTransposeForm
from linlint.analysis.forms.dense import DenseForm
from linlint.analysis.forms.kernels import out_size

__all__ = ["ConvForm", "ConvTransposeForm", "DenseForm", "NotFoldable", "out_size"]
