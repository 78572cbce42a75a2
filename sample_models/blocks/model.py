"""The PyTorch source of the ``ll001_blocks_*`` sample models (see ``../build.py``).

``Block.act`` is an ``nn.Identity`` where an activation was meant, so ``expand`` and
``conv`` compose to one convolution: linlint reports each block at line 20, in the user's
terms (``blocks.0.expand (Conv2d) → blocks.0.conv (Conv2d)``).
"""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.expand = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.act = nn.Identity()
        self.conv = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.expand(x)
        x = self.act(x)
        return torch.relu(self.conv(x))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(Block(8), Block(8))
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x)
        return self.head(x.mean((2, 3)))
